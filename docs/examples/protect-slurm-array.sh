#!/usr/bin/env bash
# scrim protect over a Slurm job array (docs/distributed.md): task I of N protects
# its share of the photos. The array must be 0-(N-1), step 1: `sbatch protect-slurm-array.sh`.
#SBATCH --job-name=scrim-protect
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --output=scrim-protect-%a.log
set -euo pipefail
scrim protect --protector regions:faces+plates --workers "${SLURM_CPUS_PER_TASK:-2}" \
  /shared/photos --out /shared/protected \
  --shard "${SLURM_ARRAY_TASK_ID}/${SLURM_ARRAY_TASK_COUNT}"
