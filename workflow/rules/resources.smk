# Resources a step asks the scheduler for (SLURM memory and wall time), growing with the size of
# the step's inputs and with the retry attempt. Locally they only limit how many jobs run at once;
# on a cluster they become `sbatch --mem/--time`. Every step is one single-threaded Python process,
# so none asks for more than one thread (Snakemake's default).
#
# Use in a rule:
#
#     (in the definition of the differential step)
#         resources:
#             mem_mb=mem_mb_for(base_mb=1000, per_input_mb=20),
#             runtime=runtime_for(base_min=10, per_input_mb=1),
#
# A user overrides one step with `--set-resources differential:mem_mb=8000` (or in a profile's
# `set-resources:`), never by editing the rule. Nothing here reads the config: these are compute
# settings, not experiment facts.

import math


def mem_mb_for(base_mb, per_input_mb=0.0, max_mb=None):
    """A resource callable for `mem_mb`: `(base_mb + per_input_mb * input.size_mb) * attempt`,
    rounded up, capped at `max_mb` if given. `attempt` is 1 on the first try and grows with each
    `--retries` resubmission, so a job killed for exceeding its memory gets twice as much next.
    Before the inputs exist, `input.size_mb` raises FileNotFoundError and Snakemake evaluates the
    callable again once they do."""

    def mem_mb(wildcards, input, attempt):
        value = math.ceil((base_mb + per_input_mb * input.size_mb) * attempt)
        return min(value, max_mb) if max_mb is not None else value

    return mem_mb


def runtime_for(base_min, per_input_mb=0.0, max_min=None):
    """A resource callable for `runtime` (minutes of wall time):
    `(base_min + per_input_mb * input.size_mb) * attempt`, rounded up, capped at `max_min`.
    """

    def runtime(wildcards, input, attempt):
        value = math.ceil((base_min + per_input_mb * input.size_mb) * attempt)
        return min(value, max_min) if max_min is not None else value

    return runtime
