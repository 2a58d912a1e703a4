import sys
C=('dentry','inode_cache','lsm_inode_cache','proc_inode_cache','kernfs_node_cache','shmem_inode_cache')
prev=None; last=''; n=0
for line in open(sys.argv[1]):
    if line.startswith('read path=/proc/slabinfo'):
        v=line.split('value=',1)[1].encode().decode('unicode_escape')
        d={}
        for l in v.split('\n'):
            p=l.split()
            if len(p)>5 and p[0] in C: d[p[0]]=(int(p[1]),int(p[2]))
        if prev is None: print('start',d)
        else:
            ch={k:(d[k][1]-prev[k][1]) for k in C if d[k]!=prev[k]}
            if ch: print(n,last,ch, {k:d[k] for k in ch})
        prev=d
    elif line.startswith('read path='):
        n+=1; last=line.split()[1][5:]
        if 'errno' in line: last+=' '+line.split()[-1]
