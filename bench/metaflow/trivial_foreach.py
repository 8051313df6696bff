# Mirrors bench/flows/TrivialForeachFlow.ts: a foreach of `--splits` trivial tasks, then a
# join, so the difference between two split counts is Metaflow's cost per task.
from metaflow import FlowSpec, Parameter, step


class TrivialForeachFlow(FlowSpec):
    splits = Parameter("splits", default=1000, help="Number of foreach splits")

    @step
    def start(self):
        self.items = list(range(self.splits))
        self.next(self.body, foreach="items")

    @step
    def body(self):
        self.doubled = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = len(list(inputs))  # Metaflow's Inputs iterates but has no len()
        self.next(self.end)

    @step
    def end(self):
        pass


if __name__ == "__main__":
    TrivialForeachFlow()
