#!/bin/sh
# Checks that every option the fragments request is in effect in the merged .config.
# Usage: check-config.sh CONFIG SRC REPORT FRAGMENT...
# Writes a requested-vs-effective report to REPORT and fails naming each option that was dropped
# (its dependencies are not met) or unknown (no such symbol in this kernel).
set -eu
config=$1 src=$2 report=$3
shift 3

# One "SYMBOL VALUE FILE" line per requested symbol; "# CONFIG_X is not set" requests n. A later
# fragment overrides an earlier one, as in the merge (e.g. a --kconfig that turns BTF off). Files
# are named by their base name: the report is a build artifact and must not depend on where the
# checkout is.
requests=$(awk '
	{ file = FILENAME; sub(/.*\//, "", file) }
	/^CONFIG_[A-Za-z0-9_]+=/ { i = index($0, "="); req(substr($0, 8, i - 8), substr($0, i + 1), file); next }
	/^# CONFIG_[A-Za-z0-9_]+ is not set/ { req(substr($2, 8), "n", file) }
	function req(sym, want, file) { if (!(sym in line)) order[n++] = sym; line[sym] = sym " " want " " file }
	END { for (i = 0; i < n; i++) print line[order[i]] }
' "$@")

bad=0
{
	echo "# requested vs effective kernel config: $(for f in "$@"; do basename "$f"; done | tr '\n' ' ')"
	echo "$requests" | while read -r sym want file; do
		[ -n "$sym" ] || continue
		have=$(grep -E "^CONFIG_${sym}=" "$config" | head -n1 | cut -d= -f2- || true)
		[ -n "$have" ] || have=n
		if [ "$have" = "$want" ]; then
			echo "ok       CONFIG_$sym=$want"
		elif grep -rqsE "^[[:space:]]*(menu)?config[[:space:]]+$sym[[:space:]]*$" --include='Kconfig*' "$src"; then
			deps=$(awk -v s="$sym" '
				$1 ~ /^(menu)?config$/ { on = ($2 == s) ; next }
				on && $1 == "depends" { $1 = ""; $2 = ""; sub(/^ +/, ""); printf "%s%s", sep, $0; sep = " && " }
			' $(grep -rlsE "^[[:space:]]*(menu)?config[[:space:]]+$sym[[:space:]]*$" --include='Kconfig*' "$src"))
			echo "DROPPED  CONFIG_$sym=$want (effective: $have; depends on: ${deps:-nothing listed}; from $file)"
		else
			echo "UNKNOWN  CONFIG_$sym=$want (no such Kconfig symbol in this kernel; from $file)"
		fi
	done
} >"$report"

if grep -qE '^(DROPPED|UNKNOWN)' "$report"; then
	echo "Kernel config: options requested but not in effect (full report: $report):" >&2
	grep -E '^(DROPPED|UNKNOWN)' "$report" | sed 's/^/  /' >&2
	echo "Fix: enable what they depend on in the fragment, or remove them." >&2
	exit 1
fi
