"""`search: {method: optuna}`: Optuna's TPE sampler picks the variants, a batch at a time.

Each parameter is an ordered choice among the spec's values (Optuna sees the value's index,
so a range keeps its order and any value type works). A batch of ``spec.batch`` trials is
asked, run (in parallel, on the executor), then told in the order asked; the batch size comes
from the spec, never from the workers, so the same spec gives the same trials on one process,
a local pool or a cluster. A trial that lands on a variant already replayed is told its known
result without running it again; an invalid or failed variant, or one without a finite metric,
is told as failed (the sampler avoids it). The budget is ``trials``: how many are told.

A rerun with the same results folder asks the same trials (the sampler is seeded and is told
the same results in the same order), finds them done and goes on where the last run stopped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from engine.sweeps.spec import Spec
from engine.sweeps.variants import Variant, variant_at

logger = logging.getLogger(__name__)


class OptunaSearch:
    """The study, the trials asked and not yet told, and how many were told."""

    def __init__(self, spec: Spec) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # a line per trial is the sweep's to print
        self.spec = spec
        self.study = optuna.create_study(
            direction="maximize" if spec.goal == "max" else "minimize",
            sampler=optuna.samplers.TPESampler(seed=spec.seed),
        )
        self.told = 0
        self.chosen: list[str] = []  # the variant of each trial told, in order

    @property
    def done(self) -> bool:
        return self.told >= self.spec.trials

    def ask(self) -> list[tuple[Any, Variant]]:
        """The next batch: (trial, its variant) pairs, at most ``batch`` and the budget left."""
        batch = []
        for _ in range(min(self.spec.batch, self.spec.trials - self.told)):
            trial = self.study.ask()
            indices = [
                trial.suggest_int(parameter.path, 0, len(parameter.values) - 1) for parameter in self.spec.parameters
            ]
            batch.append((trial, variant_at(self.spec, indices)))
        return batch

    def tell(self, batch: Sequence[tuple[Any, Variant]], scores: Mapping[str, float | None]) -> None:
        """Tell every trial of the batch, in the order asked, its variant's score (None: failed)."""
        from optuna.trial import TrialState

        for trial, variant in batch:
            score = scores.get(variant.id)
            if score is None or not math.isfinite(score):
                self.study.tell(trial, state=TrialState.FAIL)
            else:
                self.study.tell(trial, score)
            self.told += 1
            self.chosen.append(variant.id)
        logger.info(
            "optuna: %d of %d trials told, %d distinct variants", self.told, self.spec.trials, len(set(self.chosen))
        )
