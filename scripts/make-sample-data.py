#!/usr/bin/python3
"""Builds the small real sample shipped under data/ from the development sets in ../shared/data.

Run once by a developer (not at build, test or run time). Selection is by whole patients so that the
sample keeps ISIC 2020's structure (several images per patient), deterministic for the seed below.
  isic2020/: every patient with a melanoma (all 302 melanomas of the dev set) plus benign-only patients
             drawn at random until ~1,100 images; official CSV lines copied byte for byte (CRLF).
  ham10000/: 120 melanoma + 180 benign HAM10000 images (one per lesion), copied byte for byte.
"""
import csv, os, random, shutil, sys

SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '../../shared/data')
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'data')
SEED = 2020
ISIC_TARGET_IMAGES = 1100


def copy_set(src_dir, dst_dir, keep_names):
    os.makedirs(os.path.join(dst_dir, 'train'), exist_ok=True)
    with open(os.path.join(src_dir, 'ISIC_2020_Training_GroundTruth.csv'), 'rb') as f:
        lines = f.read().split(b'\n')
    header, body = lines[0], [l for l in lines[1:] if l.strip()]
    kept = [l for l in body if l.split(b',')[0].decode() in keep_names]
    with open(os.path.join(dst_dir, 'ISIC_2020_Training_GroundTruth.csv'), 'wb') as f:
        f.write(b'\n'.join([header] + kept) + b'\n')
    for name in keep_names:
        shutil.copyfile(os.path.join(src_dir, 'train', name + '.jpg'), os.path.join(dst_dir, 'train', name + '.jpg'))
    return len(kept)


def main():
    rng = random.Random(SEED)
    isic = os.path.join(SHARED, 'isic-sample')
    rows = list(csv.DictReader(open(os.path.join(isic, 'ISIC_2020_Training_GroundTruth.csv'), newline='')))
    by_patient = {}
    for r in rows:
        by_patient.setdefault(r['patient_id'], []).append(r)
    with_melanoma = sorted(p for p, rs in by_patient.items() if any(r['target'] == '1' for r in rs))
    benign_only = sorted(p for p in by_patient if p not in with_melanoma)
    rng.shuffle(benign_only)
    chosen = list(with_melanoma)
    count = sum(len(by_patient[p]) for p in chosen)
    for p in benign_only:
        if count >= ISIC_TARGET_IMAGES:
            break
        chosen.append(p)
        count += len(by_patient[p])
    names = {r['image_name'] for p in chosen for r in by_patient[p]}
    dst = os.path.join(OUT, 'isic2020')
    n = copy_set(isic, dst, names)
    sources = [r for r in csv.DictReader(open(os.path.join(isic, 'sources.csv'), newline='')) if r['image_name'] in names]
    with open(os.path.join(dst, 'sources.csv'), 'w', newline='') as f:
        w = csv.writer(f, lineterminator='\n')
        w.writerow(['image_name', 'source'])
        w.writerows([r['image_name'], r['source']] for r in sources)
    shutil.copyfile(os.path.join(SHARED, 'ISIC_2020_Training_Duplicates.csv'), os.path.join(dst, 'ISIC_2020_Training_Duplicates.csv'))
    print(f'isic2020: {n} images, {len(chosen)} patients')

    ham = os.path.join(SHARED, 'ham10000-sample')
    hrows = list(csv.DictReader(open(os.path.join(ham, 'ISIC_2020_Training_GroundTruth.csv'), newline='')))
    mel = sorted(r['image_name'] for r in hrows if r['target'] == '1')
    ben = sorted(r['image_name'] for r in hrows if r['target'] == '0')
    hnames = set(rng.sample(mel, 120)) | set(rng.sample(ben, 180))
    print(f'ham10000: {copy_set(ham, os.path.join(OUT, "ham10000"), hnames)} images')


if __name__ == '__main__':
    main()
