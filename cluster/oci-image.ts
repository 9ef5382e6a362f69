// OCI image archives made on this machine, for a node that has no registry:
// one uncompressed layer from a folder, the image config, manifest and index,
// packed as an OCI image layout in a tar (what `ctr images import` and
// `buildah … oci-archive:` read and write). The layer is packed with fixed
// owners, times and order, so the same folder gives the same digest.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
};

/** The runtime part of an image config (OCI image-spec `config`). */
export interface ImageRuntimeConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  User?: string;
  Env?: string[];
  WorkingDir?: string;
}

export interface OciImageSpec {
  /** A full reference, e.g. `localhost/kubectl-custom/pause:1`: the name containerd gives the image on import. */
  name: string;
  /** A folder whose contents become the image's only layer. */
  rootfs: string;
  config: ImageRuntimeConfig;
}

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('error', reject).on('end', () => resolve(h.digest('hex')));
  });
}

/** A deterministic tar of `dir`'s contents (GNU tar). */
function tarDir(dir: string, out: string): void {
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=gnu', '-C', dir, '-cf', out, '.']);
}

/** The tag part of a reference (`latest` when it has none). */
export function referenceTag(ref: string): string {
  const last = ref.slice(ref.lastIndexOf('/') + 1);
  const i = last.indexOf(':');
  return i < 0 ? 'latest' : last.slice(i + 1);
}

/** Writes `spec` as an OCI image archive at `file`; returns the manifest's digest. */
export async function writeOciArchive(spec: OciImageSpec, file: string): Promise<string> {
  mkdirSync(dirname(file), { recursive: true });
  const work = mkdtempSync(`${file}.tmp-`);
  try {
    const blobs = join(work, 'layout/blobs/sha256');
    mkdirSync(blobs, { recursive: true });
    const layerTmp = join(work, 'layer.tar');
    tarDir(spec.rootfs, layerTmp);
    const layerHex = await sha256File(layerTmp);
    const layerSize = statSync(layerTmp).size;
    renameSync(layerTmp, join(blobs, layerHex));
    const blob = (data: string) => {
      const hex = createHash('sha256').update(data).digest('hex');
      writeFileSync(join(blobs, hex), data);
      return { digest: `sha256:${hex}`, size: Buffer.byteLength(data) };
    };
    const config = blob(JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: spec.config,
      rootfs: { type: 'layers', diff_ids: [`sha256:${layerHex}`] },
    }));
    const manifest = blob(JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.manifest,
      config: { mediaType: MEDIA.config, ...config },
      layers: [{ mediaType: MEDIA.layer, digest: `sha256:${layerHex}`, size: layerSize }],
    }));
    writeFileSync(join(work, 'layout/index.json'), JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.index,
      manifests: [{
        mediaType: MEDIA.manifest,
        ...manifest,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'io.containerd.image.name': spec.name, 'org.opencontainers.image.ref.name': referenceTag(spec.name) },
      }],
    }));
    writeFileSync(join(work, 'layout/oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const tmpArchive = join(work, 'image.tar');
    tarDir(join(work, 'layout'), tmpArchive);
    renameSync(tmpArchive, file);
    return manifest.digest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
