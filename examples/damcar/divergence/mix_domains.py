# Usage: mix_domains.py EXPOSED.csv UNEXPOSED.csv OUT.csv
# One training file for a single-stream domain-adversarial model: the exposed rows
# (exposed = 1) and the unexposed pairs (finish = 0, exposed = 0), shuffled (seed 1).
import csv, random, sys
train, unexp, out = sys.argv[1:4]
cols = None
rows = []
with open(train) as f:
    r = csv.DictReader(f); cols = [c for c in r.fieldnames if c != 'watch_time']
    for d in r: d['exposed'] = '1'; rows.append(d)
with open(unexp) as f:
    for d in csv.DictReader(f): d['finish'] = '0'; d['exposed'] = '0'; rows.append(d)
random.Random(1).shuffle(rows)
with open(out, 'w', newline='') as f:
    w = csv.writer(f); w.writerow(cols + ['exposed'])
    for d in rows: w.writerow([d[c] for c in cols] + [d['exposed']])
