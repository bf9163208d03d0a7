#!/usr/bin/env bash
# Build the one-folder desktop bundle: dist/lessonreview/lessonreview (+ its _internal/).
# Needs the packaging extra: pip install -r requirements.lock (or '.[packaging]').
# Usage: packaging/build.sh            (uses .venv/bin/python if present, else python3)
#        PYTHON=/path/to/python packaging/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi

"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/lessonreview.spec
# The desktop entry and icon travel with the bundle so an installer can copy them.
cp packaging/lessonreview.desktop resources/icon.png dist/lessonreview/
echo "built dist/lessonreview ($(du -sh dist/lessonreview | cut -f1))"
