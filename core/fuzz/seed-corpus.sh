#!/bin/sh
# Seeds the fuzz corpus with every `eval` query of the promqltest files.
# Usage: core/fuzz/seed-corpus.sh [testdata-dir]   (default ../shared/promql-testdata)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
testdata=${1:-$here/../../../shared/promql-testdata}
out=$here/corpus/parse
mkdir -p "$out"
n=0
for f in "$testdata"/*.test; do
    sed -n -e 's/^eval[a-z_]* instant at [^ ]* //p' \
           -e 's/^eval[a-z_]* range from [^ ]* to [^ ]* step [^ ]* //p' "$f" |
    while IFS= read -r q; do
        printf '%s' "$q" > "$out/$(printf '%s' "$q" | cksum | cut -d' ' -f1)"
    done
done
echo "corpus: $(ls "$out" | wc -l) files in $out"
