"""Region kernels vs nilearn 0.14.1: ReNA / HierarchicalKMeans on ~72k voxels x 200
samples, connected_regions on N ICA-like maps on the MNI 2 mm grid.

Usage: python benchmarks/bench_region_kernels.py {rena|hkm|connected N}
"""
import numpy as np, time, nibabel as nib, warnings, sys, resource, tracemalloc
from scipy.ndimage import gaussian_filter
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_limits
threadpool_limits(1)
warnings.simplefilter("ignore")
what = sys.argv[1]
rng = np.random.default_rng(0)
shape=(91,109,91)
ii,jj,kk = np.indices(shape)
c = np.array(shape)/2
def ellipsoid(r): return ((ii-c[0])**2/r[0]**2+(jj-c[1])**2/r[1]**2+(kk-c[2])**2/r[2]**2) < 1
def timed(f):
    tracemalloc.start(); t=time.perf_counter(); out=f(); dt=time.perf_counter()-t; peak=tracemalloc.get_traced_memory()[1]/1e6; tracemalloc.stop(); return out, dt, peak
if what in ("rena", "hkm"):
    mask = ellipsoid((24,30,24)); n=int(mask.sum())
    # spatially smooth data: smooth a few random volumes and mix
    base = np.stack([gaussian_filter(rng.standard_normal(shape).astype(np.float32), 2)[mask] for _ in range(20)])
    X = (rng.standard_normal((200, 20)).astype(np.float32) @ base + 0.3*rng.standard_normal((200, n)).astype(np.float32)).astype(np.float32)
    print("voxels", n, "samples", X.shape[0])
    if what == "rena":
        from nilearn.regions import ReNA as NR
        from regionkit.regions import ReNA
        mimg = nib.Nifti1Image(mask.astype(np.int8), np.diag([2,2,2,1.]))
        for nc in [1000]:
            a, ta, pa = timed(lambda: NR(mask_img=mimg, n_clusters=nc).fit(X))
            b, tb, pb = timed(lambda: ReNA(mask_img=mimg, n_clusters=nc).fit(X))
            _, tta, _ = timed(lambda: a.transform(X)); _, ttb, _ = timed(lambda: b.transform(X))
            print(f"ReNA {nc}: fit nilearn {ta:.2f}s (py peak {pa:.0f} MB) ours {tb:.2f}s ({pb:.0f} MB); transform {tta:.3f}s vs {ttb:.3f}s; ARI {adjusted_rand_score(a.labels_, b.labels_):.4f} identical {np.array_equal(a.labels_, b.labels_)}")
    else:
        from nilearn.regions import HierarchicalKMeans as NH
        from regionkit.regions import HierarchicalKMeans
        nc = 100
        a, ta, pa = timed(lambda: NH(n_clusters=nc).fit(X))
        b, tb, pb = timed(lambda: HierarchicalKMeans(n_clusters=nc).fit(X))
        _, tta, _ = timed(lambda: a.transform(X)); _, ttb, _ = timed(lambda: b.transform(X))
        print(f"HKMeans {nc}: fit nilearn {ta:.2f}s ({pa:.0f} MB) ours {tb:.2f}s ({pb:.0f} MB); transform {tta:.3f}s vs {ttb:.3f}s; ARI {adjusted_rand_score(a.labels_, b.labels_):.4f}")
else:
    brain = ellipsoid((40,50,38))
    n_maps = int(sys.argv[2])
    maps = np.zeros(shape+(n_maps,), np.float32)
    for k in range(n_maps):
        v = gaussian_filter(rng.standard_normal(shape).astype(np.float32), 3); v[~brain]=0; v/=v[brain].std()
        v[np.abs(v) < 1.6] = 0; maps[...,k]=v
    img = nib.Nifti1Image(maps, np.diag([2,2,2,1.]))
    print("support fraction of brain per map", ((maps!=0).sum((0,1,2))/brain.sum()).round(3))
    from nilearn.regions import connected_regions as ncr
    from regionkit.regions import connected_regions
    for et in ["connected_components", "local_regions"]:
        (a, ia), ta, pa = timed(lambda: ncr(img, extract_type=et))
        modes = ["cg", "cg_j", "cg_mg"] if et == "local_regions" else ["cg"]
        for mode in modes:
            (b, ib), tb, pb = timed(lambda: connected_regions(img, extract_type=et, random_walker_mode=mode))
            A = np.asarray(a.dataobj); B = np.asarray(b.dataobj)
            la = np.zeros(shape+(n_maps,),int); lb = np.zeros(shape+(n_maps,),int)
            for r,k in enumerate(ia): la[...,k][A[...,r]!=0]=r+1
            for r,k in enumerate(ib): lb[...,k][B[...,r]!=0]=r+1
            sup = maps!=0
            print(f"{et} {mode}: nilearn {ta:.2f}s ({pa:.0f} MB) ours {tb:.2f}s ({pb:.0f} MB) regions {len(ia)}/{len(ib)} same index {ia==ib} ARI {adjusted_rand_score(la[sup], lb[sup]):.4f}")
