//! A real nginx WebDAV remote for one test, through `scripts/remote-nginx.sh`, and the
//! pipeline and helpers the tests share.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::Ws;

/// A small pipeline: two generated directories and a file that reads both.
pub(crate) const PIPELINE: &str = r#"version: 1
stages:
  gen:
    cmd: "echo gen-${n} >> \"$COUNTER\"; mkdir -p data/${n}; echo ${n} > data/${n}/v.txt; echo extra-${n} > data/${n}/w.txt"
    shell: true
    matrix:
      n: [1, 2]
    code: ["tools/*.sh"]
    outs: ["data/${n}"]
  sum:
    cmd: "echo sum >> \"$COUNTER\"; sh tools/sum.sh > sum.txt"
    shell: true
    deps: [data]
    code: ["tools/*.sh"]
    outs: [sum.txt]
"#;

/// A workspace of [`PIPELINE`] that has run.
pub(crate) fn produced() -> Ws {
    let ws = Ws::new(PIPELINE);
    ws.write("tools/sum.sh", "cat data/*/v.txt\n");
    ws.ok(&["run"]);
    ws
}

/// A fresh checkout of `ws`: its committed files (pipeline, tools, lock), no cache, no
/// outputs; its stages append to the same counter.
pub(crate) fn fresh_copy(ws: &Ws) -> Ws {
    let copy = Ws::new(&ws.read("pipeline.yaml"));
    copy.write("tools/sum.sh", &ws.read("tools/sum.sh"));
    copy.write("repro.lock", &ws.read("repro.lock"));
    copy
}

/// A running nginx remote; stopped on drop.
pub(crate) struct Nginx {
    dir: tempfile::TempDir,
    /// The remote's URL (`http://127.0.0.1:PORT/cache/`).
    pub(crate) url: String,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/remote-nginx.sh")
}

impl Nginx {
    /// Starts a server (with HTTP Basic `user:password` when given); `None` (after saying
    /// why) when the script cannot run here and `CI` is unset.
    pub(crate) fn start(auth: Option<&str>) -> Option<Nginx> {
        let dir = tempfile::Builder::new()
            .prefix("repro-nginx-")
            .tempdir()
            .expect("tempdir");
        let mut cmd = Command::new("bash");
        cmd.arg(script()).arg("start").arg(dir.path());
        if let Some(a) = auth {
            cmd.arg(a);
        }
        let out = cmd.output().expect("run bash");
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => Some(Nginx {
                url: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
                dir,
            }),
            Some(3) if std::env::var_os("CI").is_none() => {
                eprintln!("SKIPPED: scripts/remote-nginx.sh cannot run here: {stderr}");
                None
            }
            code => panic!("scripts/remote-nginx.sh start failed ({code:?}): {stderr}"),
        }
    }

    /// The remote's files (the server's root below the URL's prefix).
    pub(crate) fn files(&self) -> PathBuf {
        self.dir.path().join("root/cache")
    }

    /// How many requests nginx logged.
    pub(crate) fn requests(&self) -> usize {
        fs::read_to_string(self.dir.path().join("access.log")).map_or(0, |t| t.lines().count())
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

/// Every regular file under `dir`, relative, sorted.
pub(crate) fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

/// The object file on the remote whose bytes are `content`.
pub(crate) fn remote_object_with(remote: &Path, content: &[u8]) -> PathBuf {
    files_under(&remote.join("objects"))
        .into_iter()
        .map(|rel| remote.join("objects").join(rel))
        .find(|p| fs::read(p).is_ok_and(|b| b == content))
        .unwrap_or_else(|| panic!("no object holds {:?}", String::from_utf8_lossy(content)))
}

/// Replaces a (read-only) file's bytes.
pub(crate) fn overwrite(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(path, bytes).unwrap();
}

/// The digest named by an object file's path (`objects/ab/cdef…`).
pub(crate) fn digest_of(object: &Path) -> String {
    let b = object.file_name().unwrap().to_string_lossy().into_owned();
    let a = object
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    format!("{a}{b}")
}

/// The key `repro.lock` records for `id` (default profile).
pub(crate) fn lock_key(ws: &Ws, id: &str) -> String {
    let lock = ws.read("repro.lock");
    let mut lines = lock.lines().skip_while(|l| *l != format!("[default] {id}"));
    lines.next().expect("instance in the lock");
    lines
        .next()
        .and_then(|l| l.strip_prefix("key "))
        .expect("key line")
        .to_owned()
}
