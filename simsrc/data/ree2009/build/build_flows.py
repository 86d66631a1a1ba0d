"""Build flows.csv for ree2009 from raw/reo_totals.csv and raw/element_shares.csv (stdlib only).
All-REO flows: CHN produces share*world; CHN consumes its stated consumption; the rest of China's output
is exported in the stated export shares; non-China producers supply themselves. Element flows = REO flow
x element share (China share on CHN rows, non-China share on other rows)."""
import csv, os, sys
here = os.path.dirname(os.path.abspath(__file__)); root = os.path.dirname(here)
out = sys.argv[sys.argv.index('--out')+1] if '--out' in sys.argv else root
rows = [r for r in csv.DictReader(l for l in open(os.path.join(root,'raw','reo_totals.csv')) if not l.startswith('#'))]
get = lambda item, reg: float(next(r['value'] for r in rows if r['item']==item and r['region']==reg))
W = get('world_total','WORLD'); Qc = W*get('china_share','CHN'); Cc = get('consumption','CHN')
X = Qc - Cc
reo = {('CHN','CHN'): Cc}
for r in rows:
    if r['item']=='export_share': reo[('CHN',r['region'])] = X*float(r['value'])
    if r['item']=='production' and r['region']!='CHN' and float(r['value'])>0: reo[(r['region'],r['region'])] = float(r['value'])
assert abs(sum(reo.values()) - (Qc + sum(float(r['value']) for r in rows if r['item']=='production'))) < 1e-6
shares = list(csv.DictReader(open(os.path.join(root,'raw','element_shares.csv'))))
lines = ['mineral,origin,destination,quantity']
for s in shares:
    for (o,d),q in sorted(reo.items()):
        f = float(s['share_of_reo_china'] if o=='CHN' else s['share_of_reo_nonchina'])
        v = round(q*f, 3)
        txt = ('%.3f' % v).rstrip('0').rstrip('.')
        if v > 0: lines.append(s['mineral'] + ',' + o + ',' + d + ',' + txt)
open(os.path.join(out,'flows.csv'),'w').write('\n'.join(lines)+'\n')
print('\n'.join(lines)); print('REO: China prod', Qc, 'exports', X)
