//! Publishing the outputs: everything is first written into a hidden staging directory inside
//! the output directory, then each file is renamed into place, so a failure part-way leaves the
//! previous outputs (or none) rather than a mix. The staging directory is removed either way.

use std::path::{Path, PathBuf};

use crate::TableError;

/// A staging directory that is removed when dropped.
pub struct Staging {
    dir: PathBuf,
    out: PathBuf,
    files: Vec<PathBuf>,
}

impl Staging {
    /// Creates `out` (if needed) and a fresh staging directory inside it.
    pub fn new(out: &Path) -> Result<Staging, TableError> {
        let dir = out.join(format!(".table-staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("figures")).map_err(|e| TableError::write(&dir, e))?;
        Ok(Staging {
            dir,
            out: out.to_owned(),
            files: Vec::new(),
        })
    }

    /// The staging path of `relative` (e.g. `figures/curves_relu.png`), recorded for publishing.
    pub fn path(&mut self, relative: &str) -> PathBuf {
        self.files.push(PathBuf::from(relative));
        self.dir.join(relative)
    }

    /// Writes `contents` to the staging path of `relative`.
    pub fn write(&mut self, relative: &str, contents: &str) -> Result<(), TableError> {
        let path = self.path(relative);
        std::fs::write(&path, contents).map_err(|e| TableError::write(&self.out.join(relative), e))
    }

    /// Moves every staged file into the output directory.
    pub fn publish(self) -> Result<(), TableError> {
        std::fs::create_dir_all(self.out.join("figures"))
            .map_err(|e| TableError::write(&self.out.join("figures"), e))?;
        for rel in &self.files {
            let dest = self.out.join(rel);
            std::fs::rename(self.dir.join(rel), &dest).map_err(|e| TableError::write(&dest, e))?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
