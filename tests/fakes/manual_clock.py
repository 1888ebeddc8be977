"""A clock a test moves by hand, for code that takes `clock=` (the rate limits of the control
surfaces): the test steps time instead of sleeping past a second, and nothing depends on how busy
the machine is."""


class ManualClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds
