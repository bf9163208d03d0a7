#!/usr/bin/env bash
# Set up a development copy of Lesson Review from scratch, then open the demo or run the tests.
#
#   bash packaging/dev.sh demo     # set up, then open the app on the bundled demo recording
#   bash packaging/dev.sh test     # set up, then run the whole test suite on a virtual X display
#   bash packaging/dev.sh setup    # only set up
#
# Setup: the system libraries Qt's X11 plugin needs and Xvfb (apt-get, as root or via sudo,
# only those missing), a virtual environment .venv with exactly the versions in
# requirements.lock, and Lesson Review installed into it (editable). A .venv made from the
# same lock is reused. Model files: LESSONREVIEW_MODELS if set, else ../shared/models when
# it exists (this repository's development layout), with the arm pose model's development
# copy beside them (packaging/dev_models.sh); otherwise the app offers to download them.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1

# Without these xcb libraries PySide6's xcb platform plugin cannot load, and the app aborts on a
# real X display with "no Qt platform plugin could be initialized" (offscreen tests still pass).
APT_PACKAGES=(
    xvfb xauth x11-utils fonts-dejavu-core strace
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
    libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-randr0
    libxcb-glx0 libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libx11-xcb1 libxkbcommon0
    libegl1 libgl1 libgles2 libfontconfig1 libdbus-1-3 libglib2.0-0
)

install_system_packages() {
    command -v dpkg-query >/dev/null || { echo "not a Debian/Ubuntu system: install the Qt xcb libraries and Xvfb yourself" >&2; return 0; }
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    echo "installing system packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

make_venv() {
    local python lock_sum
    python=$(command -v python3.11 || command -v python3)
    "$python" -c 'import sys; assert sys.version_info >= (3, 11), "Lesson Review needs Python 3.11+, found " + sys.version'
    lock_sum=$(sha256sum requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
    if [[ -x .venv/bin/python && -f .venv/.lock-sum && $(cat .venv/.lock-sum) == "$lock_sum" ]]; then
        return 0
    fi
    if ! "$python" -c 'import ensurepip' 2>/dev/null; then
        local sudo=(); [[ $(id -u) -eq 0 ]] || sudo=(sudo)
        "${sudo[@]}" apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    fi
    rm -rf .venv
    "$python" -m venv .venv
    echo "installing the locked Python packages into .venv (a few minutes the first time)"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r requirements.lock
    .venv/bin/python -m pip install -q --no-deps -e .
    echo "$lock_sum" > .venv/.lock-sum
}

install_system_packages
make_venv
if [[ -n "${LESSONREVIEW_MODELS:-}" || -d ../shared/models ]]; then
    LESSONREVIEW_MODELS="$(bash packaging/dev_models.sh)"
    export LESSONREVIEW_MODELS
fi

case "$mode" in
    setup) echo "set up: run .venv/bin/lessonreview" ;;
    demo)
        if [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]]; then
            exec .venv/bin/lessonreview --demo
        fi
        echo "no display: starting the app on a virtual one (xvfb-run)" >&2
        exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/lessonreview --demo
        ;;
    test)
        # GUI tests run on a real X display (Xvfb), never only on Qt's offscreen platform.
        unset QT_QPA_PLATFORM
        exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m pytest -q "${@:2}"
        ;;
    *) echo "usage: bash packaging/dev.sh demo|test|setup" >&2; exit 2 ;;
esac
