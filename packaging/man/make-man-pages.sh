#!/usr/bin/env bash
# Writes the man pages of `m2mdm` and `m2mdm-device` from their own --help (help2man), gzipped:
#   OUT/server/m2mdm.1.gz            the command and the list of its subcommands
#   OUT/server/m2mdm-<command>.1.gz  one page per subcommand (`m2mdm server` -> m2mdm-server(1)),
#                                    with the full --help of every nested subcommand under COMMANDS
#   OUT/device/m2mdm-device.1.gz     the device agent
# Hand-written sections (FILES, SEE ALSO...) come from packaging/man/<page>.h2m when it exists.
# Usage: make-man-pages.sh M2MDM M2MDM_DEVICE OUT VERSION   (run by cmake/M2mdmPackaging.cmake)
set -euo pipefail
m2mdm=${1:?m2mdm binary} device=${2:?m2mdm-device binary} out=${3:?output dir} version=${4:?version}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v help2man >/dev/null || { echo "make-man-pages: help2man is missing (apt-get install help2man)" >&2; exit 1; }
export LC_ALL=C.UTF-8
tmp=$(mktemp -d "${TMPDIR:-/tmp}/m2mdm-man-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/server" "$tmp/device"

# subcommands PROGRAM [WORD...]: the subcommands `PROGRAM WORD... --help` lists (CLI11 format).
subcommands() {
  "$@" --help | awk '/^[A-Za-z][A-Za-z ]*:$/ { s = tolower($0); next }
                     s == "subcommands:" && /^  [a-z0-9]/ { print $1 }'
}
# summary PROGRAM [WORD...]: the NAME line: the first sentence of the command's description
# (without a leading "program: "), cut before " (", ": " or "; " while longer than 70 characters.
summary() {
  local s cut
  s=$("$@" --help | sed -n '/^Usage:/q;p' | tr '\n' ' ' | sed -e 's/^[a-z0-9-]*: //' -e 's/\. .*//' -e 's/[. ]*$//')
  for cut in ' (' ': ' '; '; do
    [ "${#s}" -le 70 ] || s=${s%%"$cut"*}
  done
  printf '%s\n' "$s"
}
# Text as roff: backslashes and minus signs escaped, no line taken for a request.
roff() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
# nested WORD...: a .SS block with the --help of every subcommand below `m2mdm WORD...`.
nested() {
  local sub
  for sub in $(subcommands "$m2mdm" "$@"); do
    printf '.SS "m2mdm %s"\n.nf\n' "$* $sub"
    "$m2mdm" "$@" "$sub" --help | roff
    printf '.fi\n'
    nested "$@" "$sub"
  done
}
# page NAME OUTDIR PROGRAM-AND-WORDS INCLUDE: help2man, then the page named NAME (not "m2mdm server").
page() {
  local name=$1 dir=$2 prog=$3 include=$4 extra=()
  [ -f "$here/$name.h2m" ] && extra=(--include "$here/$name.h2m")
  # shellcheck disable=SC2086 # PROGRAM-AND-WORDS is split on purpose (help2man runs it with --help)
  help2man --no-info --locale C.UTF-8 --section 1 --version-string "$version" --name "$(summary $prog)" \
    --include "$include" "${extra[@]}" --output "$tmp/$name.1" "$prog"
  local title
  title=$(tr '[:lower:]' '[:upper:]' <<<"$name")
  sed -e "s/^\\.TH [^ ]* /.TH $title /" -e '/^\.SH NAME$/{n;s/^.* \\- /'"${name//-/\\\\-}"' \\- /}' \
    "$tmp/$name.1" | gzip -9n >"$tmp/$dir/$name.1.gz"
}

commands=$(subcommands "$m2mdm")
[ -n "$commands" ] || { echo "make-man-pages: $m2mdm --help lists no subcommands" >&2; exit 1; }
for cmd in $commands; do
  {
    body=$(nested "$cmd")
    [ -z "$body" ] || printf '[COMMANDS]\n%s\n' "$body"
    printf '[SEE ALSO]\n.BR m2mdm (1)\n'
  } >"$tmp/$cmd.h2m"
  page "m2mdm-$cmd" server "$m2mdm $cmd" "$tmp/$cmd.h2m"
done
{
  printf '[SEE ALSO]\n'
  for cmd in $commands; do printf '.BR m2mdm\\-%s (1),\n' "$cmd"; done
  printf '.BR m2mdm\\-device (1)\n'
} >"$tmp/m2mdm.h2m"
page m2mdm server "$m2mdm" "$tmp/m2mdm.h2m"
printf '[SEE ALSO]\n.BR m2mdm (1)\n' >"$tmp/device.h2m"
page m2mdm-device device "$device" "$tmp/device.h2m"

rm -rf "$out/server" "$out/device"
mkdir -p "$out"
mv "$tmp/server" "$tmp/device" "$out/"
echo "make-man-pages: $(find "$out/server" -name '*.1.gz' | wc -l) pages for m2mdm, 1 for m2mdm-device in $out"
