#!/usr/bin/env python3
"""scrim's dependencies other than LibTorch, as one relocatable prefix for a GPU machine that has a CUDA LibTorch
(a PyTorch's) but not OpenCV, dlib, Tesseract, cpp-httplib, spdlog, SQLite or OpenSSL, and cannot install them.

    bench/device/deps_prefix.py OUT.tar.xz [SCRIM=build/scrim]

Run on a Debian 12 machine with scripts/install-deps.sh done and scrim built. The tarball unpacks under /opt/deb
(usr/include, usr/lib/x86_64-linux-gnu with its CMake and pkg-config files rewritten to /opt/deb/usr, usr/bin with
pkgconf, a pkg-config-bundle wrapper and jq); bench/device/train.sh builds scrim whole against it and trains on the GPU.

To stay small (17 MB rather than 90) the libraries that only codecs, cameras and video backends scrim's training never
uses pull in (GDAL, FFmpeg, GStreamer, DICOM, gphoto, BLAS/LAPACK, curl, libarchive, GLib, X11, ...) are replaced by
stubs: libraries of the same name that define exactly the symbols the kept ones (and SCRIM, for dlib's LAPACK calls)
import from them, every function returning 0 (OpenCV calls GDALAllRegister while it registers its codecs). The prefix
runs `scrim data synth`, `reference train`, `train` and `eval` on pictures; videos, dlib's linear algebra and
Tesseract's archive readers would reach a stub.
"""
import collections, os, re, shutil, subprocess, sys, tarfile, tempfile

SYS = '/usr/lib/x86_64-linux-gnu'
BASE = {'libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libdl.so.2', 'libpthread.so.0', 'librt.so.1',
        'ld-linux-x86-64.so.2'}
STUB = re.compile(r'^(libgdal|libav|libsw|libgst|libdc1394|libgphoto2|libraw1394|libgdcm|libopenblas|liblapack|libblas|'
                  r'libxml2|libarchive|libcurl|libgnutls|libX11|libGL|libglib|libgio|libgobject|libopenjp2|libjxl)')
ROOTS = ('libopencv_videoio.so.406 libopencv_imgcodecs.so.406 libopencv_objdetect.so.406 libopencv_imgproc.so.406 '
         'libopencv_core.so.406 libspdlog.so.1.10 libfmt.so.9 libcpp-httplib.so.0.11 libcrypto.so.3 libssl.so.3 '
         'libtesseract.so.5 liblept.so.5 libdlib.so.19.1 libsqlite3.so.0 libz.so.1').split()
HEADERS = ('opencv4 dlib tesseract leptonica spdlog fmt nlohmann httplib.h CLI sqlite3.h sqlite3ext.h openssl brotli png.h '
           'pngconf.h pnglibconf.h jpeglib.h jmorecfg.h jerror.h zlib.h zconf.h x86_64-linux-gnu/openssl '
           'x86_64-linux-gnu/jconfig.h x86_64-linux-gnu/cblas.h x86_64-linux-gnu/cblas-netlib.h x86_64-linux-gnu/cblas_f77.h '
           'x86_64-linux-gnu/cblas_mangling.h').split()  # dlib's headers call BLAS through cblas.h
CMAKE = ['lib/x86_64-linux-gnu/cmake/' + d for d in ('opencv4', 'dlib', 'spdlog', 'fmt')] + \
        ['share/cmake/' + d for d in ('CLI11', 'nlohmann_json')]
PKGCONFIG = ['cpp-httplib.pc', 'sqlite3.pc', 'tesseract.pc', 'lept.pc']


def run(*cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def needed(path):
    return re.findall(r'\(NEEDED\).*\[(.+)\]', run('readelf', '-d', path))


def dynsyms(path):
    """(size, type, section, name[@version]) of each dynamic symbol."""
    for line in run('readelf', '--dyn-syms', '-W', path).splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(':') and f[0][:-1].isdigit():
            yield int(f[2], 0), f[3], f[4], f[6], f[7]


def stub(name, real, wanted, lib, work):
    """A library named `name` defining the symbols of `real` in `wanted`, under the same versions."""
    asm, versions = ['.text'], collections.defaultdict(list)
    for size, kind, bind, ndx, full in dynsyms(real):
        sym, _, version = full.partition('@')
        version = version.lstrip('@')
        if ndx == 'UND' or (full not in wanted and sym not in wanted):
            continue
        if kind in ('FUNC', 'IFUNC'):
            asm += [f'.globl {sym}', f'.type {sym},@function', f'{sym}:', '  xorl %eax,%eax', '  ret']
        else:
            n = max(size, 1)
            asm += ['.data', f'.globl {sym}', f'.type {sym},@object', f'.size {sym},{n}', f'{sym}:', f'  .zero {n}', '.text']
        versions[version].append(sym)
    src = os.path.join(work, name + '.s')
    with open(src, 'w') as f:
        f.write('\n'.join(asm) + '\n.section .note.GNU-stack,"",@progbits\n')
    cmd = ['gcc', '-shared', '-nostdlib', '-o', os.path.join(lib, name), f'-Wl,-soname,{name}', src]
    # Every version node the real library defines: a consumer may require one it takes no symbol from.
    defined = run('readelf', '-V', '-W', real).split('Version needs section')[0]
    nodes = [v for v in re.findall(r'Name: (\S+)', defined) if not v.startswith('lib')]
    nodes = list(dict.fromkeys(nodes + [v for v in versions if v]))
    if nodes:
        script = ''.join(f'{v} {{ global: ' + ''.join(s + '; ' for s in versions[v]) + '};\n' if versions.get(v)
                         else f'{v} {{ }};\n' for v in nodes)
        if versions.get(''):
            script += '{ global: ' + ''.join(s + '; ' for s in versions['']) + 'local: *; };\n'
        with open(os.path.join(work, name + '.map'), 'w') as f:
            f.write(script)
        cmd.append(f'-Wl,--version-script={os.path.join(work, name + ".map")}')
    subprocess.run(cmd, check=True)


def main():
    out = sys.argv[1]
    scrim = sys.argv[2] if len(sys.argv) > 2 else 'build/scrim'
    with tempfile.TemporaryDirectory() as work:
        usr = os.path.join(work, 'usr')
        lib = os.path.join(usr, 'lib/x86_64-linux-gnu')
        os.makedirs(lib)
        kept, stubs, todo = {}, {}, list(ROOTS)
        while todo:
            n = todo.pop()
            if n in kept or n in stubs or n in BASE:
                continue
            path = next(p for p in (f'/lib/x86_64-linux-gnu/{n}', f'{SYS}/{n}') if os.path.exists(p))
            if STUB.match(n):
                stubs[n] = path
            else:
                kept[n] = path
                todo += needed(path)
        wanted = {full.split(' ')[0] for p in list(kept.values()) + [scrim]
                  for _, _, bind, ndx, full in dynsyms(p) if ndx == 'UND' and bind != 'WEAK'}
        for n, path in stubs.items():
            stub(n, path, wanted, lib, work)
        for n, path in kept.items():
            shutil.copy2(os.path.realpath(path), os.path.join(lib, n))
        # jq (bench/front.sh) and pkgconf, with their libraries.
        os.makedirs(os.path.join(usr, 'bin'))
        for tool, dest in (('/usr/bin/jq', 'jq'), ('/usr/bin/pkgconf', 'pkg-config')):
            shutil.copy2(tool, os.path.join(usr, 'bin', dest))
            todo = needed(tool)
            while todo:
                n = todo.pop()
                if n not in BASE and not os.path.exists(os.path.join(lib, n)):
                    shutil.copy2(os.path.realpath(f'{SYS}/{n}'), os.path.join(lib, n))
                    todo += needed(os.path.join(lib, n))
        wrapper = os.path.join(usr, 'bin', 'pkg-config-bundle')
        with open(wrapper, 'w') as f:
            f.write('#!/bin/sh\n# pkg-config over the prefix\'s .pc files alone\n'
                    'LD_LIBRARY_PATH=/opt/deb/usr/lib/x86_64-linux-gnu PKG_CONFIG_LIBDIR=/opt/deb/usr/lib/x86_64-linux-gnu/pkgconfig '
                    'exec /opt/deb/usr/bin/pkg-config "$@"\n')
        os.chmod(wrapper, 0o755)
        # Every name the system gives a bundled library (libfoo.so, libfoo.so.N.M) links to the bundled file.
        by_real = collections.defaultdict(list)
        for a in os.listdir(SYS):
            if a.startswith('lib') and '.so' in a:
                by_real[os.path.realpath(os.path.join(SYS, a))].append(a)
        for n in os.listdir(lib):
            if os.path.exists(os.path.join(SYS, n)):
                for a in by_real[os.path.realpath(os.path.join(SYS, n))]:
                    if not os.path.lexists(os.path.join(lib, a)):
                        os.symlink(n, os.path.join(lib, a))
        for n in ('libblas.so', 'liblapack.so'):  # dlib's CMake file names them
            if not os.path.lexists(os.path.join(lib, n)):
                os.symlink(n + '.3', os.path.join(lib, n))
        inc = os.path.join(usr, 'include')
        for h in HEADERS:
            src, dst = os.path.join('/usr/include', h), os.path.join(inc, h)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.isdir(src):
                shutil.copytree(src, dst, symlinks=True)
            else:
                shutil.copy2(src, dst)  # follows links (cblas.h is an alternative)
        for d in CMAKE:
            shutil.copytree(os.path.join('/usr', d), os.path.join(usr, d), symlinks=True)
        os.makedirs(os.path.join(lib, 'pkgconfig'))
        for pc in PKGCONFIG:
            text = open(os.path.join(SYS, 'pkgconfig', pc)).read()
            text = re.sub(r'^prefix=/usr$', 'prefix=/opt/deb/usr', text, flags=re.M)
            text = re.sub(r'^Requires\.private:.*$', '', text, flags=re.M)
            open(os.path.join(lib, 'pkgconfig', pc), 'w').write(text)
        for top, _, files in os.walk(os.path.join(lib, 'cmake')):
            for f in files:
                p = os.path.join(top, f)
                text = open(p).read()
                new = text.replace(f'{SYS}/lib', f'/opt/deb{SYS}/lib').replace(';/usr/include"', ';/opt/deb/usr/include"')
                # Only the OpenCV modules scrim uses are in the prefix: the others' missing files are no error.
                new = new.replace('message(FATAL_ERROR "The imported target', 'message(VERBOSE "The imported target')
                if new != text:
                    open(p, 'w').write(new)
        with tarfile.open(out, 'w:xz') as t:
            t.add(usr, arcname='usr')
        print(f'{out}: {len(kept)} libraries, {len(stubs)} stubs, {os.path.getsize(out) // 2**20} MiB')


if __name__ == '__main__':
    main()
