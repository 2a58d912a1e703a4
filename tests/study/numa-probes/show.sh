#!/bin/bash
# print numa lines per zone and numastat/vmstat numa lines of a probe log
f=$1
python3 - "$f" <<'PY'
import sys,re
for line in open(sys.argv[1]):
    if not line.startswith('read '): continue
    m=re.match(r'read path=(\S+) value="(.*)"',line.rstrip('\n'))
    if not m: continue
    p,v=m.group(1),m.group(2).replace('\\n','\n')
    if p=='/proc/zoneinfo':
        zone=None
        for l in v.split('\n'):
            if l.startswith('Node'): zone=l
            t=l.split()
            if t and t[0] in ('numa_hit','numa_interleave','managed','nr_inactive_anon','nr_active_anon','nr_anon_pages','nr_mapped','nr_shmem','nr_page_table_pages'):
                print(zone.strip(),t[0],t[1])
    elif 'numastat' in p:
        print(p, ' '.join(v.split('\n')))
    elif p=='/proc/vmstat':
        print('vmstat', ' '.join(l for l in v.split('\n') if l.startswith('numa_') or l.startswith('pgalloc')))
    elif p=='/proc/meminfo':
        print('meminfo', ' '.join(l.replace(' ','') for l in v.split('\n') if re.match(r'(Active|Inactive)\(anon\)|Mapped|AnonPages|Shmem:',l)))
PY
