# Mirrors flows/Hello.ts: the smallest useful flow, a linear chain of three steps with
# parameters, under @project. flowrun's `--test-mode` defaults to "not production" through a
# function; a Metaflow parameter default cannot see `current`, so this one is a plain True
# (the value is never used, as in Hello.ts).
from metaflow import FlowSpec, Parameter, current, project, step


@project(name="hello")
class HelloFlow(FlowSpec):
    who = Parameter("name", default="world", help="Who to greet")
    times = Parameter("times", default=2, help="How many times to repeat the greeting")
    test_mode = Parameter("test-mode", default=True, help="Run quickly on little data")

    @step
    def start(self):
        self.greeting = "Hello, %s!" % self.who
        print("greeting %s in run %s" % (self.who, current.run_id))
        self.next(self.repeat)

    @step
    def repeat(self):
        self.repeated = [self.greeting] * self.times
        self.next(self.end)

    @step
    def end(self):
        print(" ".join(self.repeated))


if __name__ == "__main__":
    HelloFlow()
