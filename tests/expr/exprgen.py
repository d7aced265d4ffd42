"""Random well-typed expressions for property tests (test helper, not a test module)."""

from __future__ import annotations

import random

FLOAT_NAMES = ("a", "b", "c", "d")
BOOL_NAMES = ("p", "q")
# Written as floats so an int-based oracle cannot drift from float64 arithmetic.
CONSTANTS = ("0.0", "1.0", "2.0", "0.5", "3.0", "10.0", "0.001", "2.5", "100.0", "-1.0")
COMPARE = ("<", "<=", ">", ">=", "==", "!=")
EXACT_FUNCTIONS = ("abs", "min", "max", "clip", "sign", "sqrt", "pow")
TRANSCENDENTAL = ("log", "log1p", "exp")


class ExpressionGenerator:
    """Builds fully parenthesised random expressions of a requested type.

    ``transcendental`` adds log/log1p/exp, whose numpy and libm results may differ in the
    last bit, so tests with them compare floats approximately.
    """

    def __init__(self, rng: random.Random, *, transcendental: bool = False, max_depth: int = 4):
        self.rng = rng
        self.functions = EXACT_FUNCTIONS + (TRANSCENDENTAL if transcendental else ())
        self.max_depth = max_depth

    def expression(self, kind: str) -> str:
        return self.float_(self.max_depth) if kind == "float" else self.bool_(self.max_depth)

    def float_(self, depth: int) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            return rng.choice(FLOAT_NAMES) if rng.random() < 0.7 else rng.choice(CONSTANTS)
        pick = rng.choices(("binop", "neg", "call", "if"), weights=(5, 1, 3, 1))[0]
        if pick == "binop":
            return f"({self.float_(depth - 1)}) {rng.choice('+-*/')} ({self.float_(depth - 1)})"
        if pick == "neg":
            return f"-({self.float_(depth - 1)})"
        if pick == "if":
            return f"({self.float_(depth - 1)}) if ({self.bool_(depth - 1)}) else ({self.float_(depth - 1)})"
        return self.call(depth)

    def call(self, depth: int) -> str:
        rng = self.rng
        name = rng.choice(self.functions)
        if name == "pow":
            return f"pow({self.float_(depth - 1)}, {rng.randint(-3, 4)})"
        count = {"min": rng.randint(2, 4), "max": rng.randint(2, 4), "clip": 3}.get(name, 1)
        return f"{name}({', '.join(self.float_(depth - 1) for _ in range(count))})"

    def bool_(self, depth: int) -> str:
        rng = self.rng
        if depth <= 0 or rng.random() < 0.1:
            return rng.choice(BOOL_NAMES) if rng.random() < 0.9 else rng.choice(("True", "False"))
        pick = rng.choices(
            ("compare", "chain", "boolop", "not", "between", "booleq", "if"), weights=(5, 1, 3, 1, 1, 1, 1)
        )[0]
        if pick == "compare":
            return f"({self.float_(depth - 1)}) {rng.choice(COMPARE)} ({self.float_(depth - 1)})"
        if pick == "chain":
            parts = [f"({self.float_(depth - 1)})" for _ in range(rng.randint(3, 4))]
            text = parts[0]
            for part in parts[1:]:
                text += f" {rng.choice(COMPARE)} {part}"
            return text
        if pick == "boolop":
            op = rng.choice((" and ", " or "))
            return op.join(f"({self.bool_(depth - 1)})" for _ in range(rng.randint(2, 3)))
        if pick == "not":
            return f"not ({self.bool_(depth - 1)})"
        if pick == "between":
            return f"between({self.float_(depth - 1)}, {self.float_(depth - 1)}, {self.float_(depth - 1)})"
        if pick == "booleq":
            return f"({self.bool_(depth - 1)}) {rng.choice(('==', '!='))} ({self.bool_(depth - 1)})"
        return f"({self.bool_(depth - 1)}) if ({self.bool_(depth - 1)}) else ({self.bool_(depth - 1)})"


def random_env(rng: random.Random) -> dict:
    def value() -> float:
        if rng.random() < 0.3:
            return rng.choice((0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 100.0))
        return rng.uniform(-1000.0, 1000.0)

    env: dict = {name: value() for name in FLOAT_NAMES}
    env.update({name: rng.random() < 0.5 for name in BOOL_NAMES})
    return env
