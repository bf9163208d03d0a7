#!/usr/bin/env bash
# Check a built bundle the way a user meets it: it answers --version, finds the models, and its
# window appears on a real X display (Xvfb), not Qt's offscreen platform.
# Usage: packaging/check_bundle.sh [dist/lessonreview]   (needs xvfb-run and xwininfo)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-dist/lessonreview}
exe="$bundle/lessonreview"

version=$("$exe" --version)
echo "bundle --version: $version"
[[ "$version" == lessonreview\ * ]] || { echo "unexpected --version output" >&2; exit 1; }

if [[ -n "${LESSONREVIEW_MODELS:-}" ]]; then
    "$exe" models >/dev/null || { echo "bundle cannot resolve the model files" >&2; exit 1; }
    # A few samples of the bundled demo through the real pipeline: proves that onnxruntime,
    # mediapipe's native library and PyAV all load from inside the bundle.
    # The demo's frames are public (CC BY 4.0): its consent record says so, in a project of
    # the check's own.
    out=$(mktemp --suffix=.json)
    project=$(mktemp -d)/check.lessonreview
    "$exe" analyze "$bundle/_internal/resources/demo/classroom_demo.mp4" --rate 0.2 --pose lite \
        --out "$out" --project "$project" --consent-by "Public CC BY 4.0 frames (demo)" \
        --purpose "bundle check" --retain-until "$(date -d tomorrow +%F)" --recorded-by CI \
        2>&1 | grep -v -e '^W0000' -e '^I0000' | tail -n 3
    [[ -s "$out" ]] || { echo "bundle analysis wrote no proposals file" >&2; exit 1; }
    echo "bundle analysis: ok"
    rm -rf "$out" "$(dirname "$project")"
fi

# Start the app on its own Xvfb and wait for its top-level window to be mapped.
home=$(mktemp -d)   # a fresh user: no settings, no recent files
log="$home/app.log"
cat >"$home/run.sh" <<INNER
#!/usr/bin/env bash
HOME="$home" XDG_CONFIG_HOME="$home/config" XDG_CACHE_HOME="$home/cache" \
    "$(realpath "$exe")" >"$log" 2>&1 &
app=\$!
for _ in \$(seq 1 120); do
    if xwininfo -root -tree 2>/dev/null | grep -q '"Lesson Review'; then
        echo "window shown after ~\$(( SECONDS ))s"
        kill \$app; wait \$app 2>/dev/null || true
        exit 0
    fi
    kill -0 \$app 2>/dev/null || { echo "app exited before showing a window" >&2; exit 1; }
    sleep 0.5
done
echo "no window after 60 s" >&2
kill \$app; exit 1
INNER
chmod +x "$home/run.sh"
status=0
xvfb-run -a -s "-screen 0 1600x1000x24" "$home/run.sh" || status=$?
if [[ $status -ne 0 ]]; then
    echo "--- app output ---" >&2; cat "$log" >&2
fi
rm -rf "$home"
exit $status
