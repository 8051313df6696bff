# Mirrors bench/flows/LinearTenFlow.ts: ten trivial steps in a line, so the wall clock is
# what Metaflow's scheduling and per-task process start-up cost per step.
from metaflow import FlowSpec, step


class LinearTenFlow(FlowSpec):
    @step
    def start(self):
        self.count = 1
        self.next(self.s2)

    @step
    def s2(self):
        self.count += 1
        self.next(self.s3)

    @step
    def s3(self):
        self.count += 1
        self.next(self.s4)

    @step
    def s4(self):
        self.count += 1
        self.next(self.s5)

    @step
    def s5(self):
        self.count += 1
        self.next(self.s6)

    @step
    def s6(self):
        self.count += 1
        self.next(self.s7)

    @step
    def s7(self):
        self.count += 1
        self.next(self.s8)

    @step
    def s8(self):
        self.count += 1
        self.next(self.s9)

    @step
    def s9(self):
        self.count += 1
        self.next(self.end)

    @step
    def end(self):
        self.count += 1


if __name__ == "__main__":
    LinearTenFlow()
