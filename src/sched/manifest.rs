//! A pack's manifest as the engine fills it: one [`PackMember`] per instance, built from the
//! instance as it was resolved. The format itself (its fields, how it is written and read) is
//! the `repro-manifest` crate's, which the stage programs that read it share.

use repro_manifest::PackMember;

use crate::graph::Instance;

/// The manifest entry of `inst` in a pack: it runs for `key` and creates `done` (relative to
/// the workspace root) once its outputs are complete.
pub(crate) fn pack_member(inst: &Instance, key: &str, done: &str) -> PackMember {
    PackMember {
        instance: inst.id.clone(),
        key: Some(key.to_owned()),
        matrix: inst.matrix.to_map(),
        params: inst.params.clone(),
        env: inst.env.clone(),
        cmd: inst.argv.clone(),
        outs: inst.outs.clone(),
        done: Some(done.into()),
    }
}
