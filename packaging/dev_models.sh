#!/usr/bin/env bash
# The model folder for development, tests and CI: the files of ../shared/models (or of the
# folder LESSONREVIEW_MODELS names) with the arm pose model's development copy beside them
# (tests/data/models; see its README: end users download Google's own file instead).
# Made as .dev-models/ (links, rebuilt each time); prints its absolute path.
#   LESSONREVIEW_MODELS="$(bash packaging/dev_models.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=${LESSONREVIEW_MODELS:-../shared/models}
[[ -d "$source_dir" ]] || { echo "no model folder at $source_dir: set LESSONREVIEW_MODELS" >&2; exit 1; }
source_dir=$(cd "$source_dir" && pwd)
folder="$PWD/.dev-models"
if [[ "$source_dir" == "$folder" ]]; then
    echo "$folder"
    exit 0
fi
rm -rf "$folder"
mkdir -p "$folder"
for f in "$source_dir"/* tests/data/models/*.tflite; do
    name=$(basename "$f")
    [[ -e "$folder/$name" ]] || ln -s "$(realpath "$f")" "$folder/$name"
done
echo "$folder"
