#!/bin/bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
#
# The collector's folders are layers (README, "Map of the code"): a module may
# include its own folder's headers and those of the folders below it, never one
# above. Prints each include that runs back up, and a folder not in the order.
# Exit 0 when the layering holds.
set -u
cd "$(dirname "$0")/../.."

# Lowest first.
LAYERS=(lib event parse name attribute output detect sinks metrics trace pipeline kernel source cmd)

rank() {
	local i
	for i in "${!LAYERS[@]}"; do
		[ "${LAYERS[$i]}" = "$1" ] && { echo "$i"; return; }
	done
	echo -1
}

bad=0
for dir in user/*/; do
	folder=$(basename "$dir")
	if [ "$(rank "$folder")" -lt 0 ]; then
		echo "layers: user/$folder is in no layer: add it to LAYERS in $0 and the README's map"
		bad=1
	fi
done
for file in user/*/*.[ch]; do
	folder=$(basename "$(dirname "$file")")
	own=$(rank "$folder")
	while IFS=: read -r line target; do
		to=${target%%/*}
		[ "$to" = "$folder" ] && continue
		theirs=$(rank "$to")
		if [ "$theirs" -lt 0 ] || [ "$theirs" -gt "$own" ]; then
			echo "layers: $file:$line includes $target: $folder may not depend on $to"
			bad=1
		fi
	done < <(grep -no '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]*/[a-z_]*\.h"' "$file" |
		sed 's/:.*"\(.*\)"/:\1/')
	# Any other quoted include would pass unseen ("../cmd/options.h", a bare name):
	# only the contract and the skeleton, which live outside user/, may.
	while IFS=: read -r line target; do
		echo "layers: $file:$line includes \"$target\": name a header by its folder (folder/name.h)"
		bad=1
	done < <(grep -no '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"' "$file" |
		sed 's/#[[:space:]]*include[[:space:]]*"\(.*\)"/\1/; s/^\([0-9]*\):[[:space:]]*/\1:/' |
		grep -v ':[a-z_]*/[a-z_]*\.h$' | grep -v ':accessmon\.h$' | grep -v ':accessmon\.skel\.h$')
done
[ "$bad" = 0 ] && echo "layers: every include runs down (${LAYERS[*]})"
exit "$bad"
