#!/usr/bin/env bash
# Install a built bundle for the current user only (no root): the program under
# ~/.local/opt/lessonreview, a `lessonreview` command in ~/.local/bin, and the menu entry.
# Usage: packaging/install_user.sh [dist/lessonreview]
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=$(realpath "${1:-dist/lessonreview}")
[[ -x "$bundle/lessonreview" ]] || { echo "no bundle at $bundle: run packaging/build.sh" >&2; exit 1; }
data=${XDG_DATA_HOME:-$HOME/.local/share}
target=$HOME/.local/opt/lessonreview

rm -rf "$target.new"
mkdir -p "$(dirname "$target")"
cp -a "$bundle" "$target.new"
rm -rf "$target" && mv "$target.new" "$target"   # a half-copied bundle never replaces a good one
mkdir -p "$HOME/.local/bin"
ln -sfn "$target/lessonreview" "$HOME/.local/bin/lessonreview"
install -Dm644 resources/icon.png "$data/icons/hicolor/256x256/apps/lessonreview.png"
install -Dm644 resources/icon.svg "$data/icons/hicolor/scalable/apps/lessonreview.svg"
sed "s#^Exec=lessonreview#Exec=$target/lessonreview#" packaging/lessonreview.desktop \
    | install -Dm644 /dev/stdin "$data/applications/lessonreview.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
echo "installed $target; start it from the menu or run: $HOME/.local/bin/lessonreview"
