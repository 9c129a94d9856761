//! `repro profiles`: the profiles of the pipeline file, which one applies without `-p`, their
//! descriptions, how many instances each expands to and which stages each skips.
//!
//! How it works: the file is loaded once per profile (as `-p NAME` would load it) and its
//! matrix expanded, without building the graph or opening the workspace, so the command is
//! as cheap as loading the file a few times. A profile that does not load (a bad overlay) is
//! the same located error as `repro run -p NAME` gives.
//!
//! Limits: a pipeline without profiles has one line, `default`, the name its lock entries
//! are recorded under.

use super::load::find_pipeline_file;
use super::page::Page;
use super::table::table;
use super::{Cli, CliError};

/// One profile, as listed.
#[derive(Debug, serde::Serialize)]
struct Profile {
    name: String,
    default: bool,
    description: Option<String>,
    instances: usize,
    skipped: Vec<String>,
}

pub(crate) fn profiles(cli: &Cli, json: bool) -> Result<(), CliError> {
    let file = match &cli.file {
        Some(f) => f.clone(),
        None => find_pipeline_file()?,
    };
    let base = crate::spec::load(&file, None)?;
    let mut list = Vec::new();
    if base.profiles.is_empty() {
        list.push(Profile {
            name: crate::workspace::Workspace::profile_name(&base),
            default: true,
            description: None,
            instances: crate::graph::expand(&base)?.len(),
            skipped: Vec::new(),
        });
    }
    for name in &base.profiles {
        let p = crate::spec::load(&file, Some(name))?;
        list.push(Profile {
            name: name.clone(),
            default: base.profile.as_deref() == Some(name),
            description: p.profile_description.clone(),
            instances: crate::graph::expand(&p)?.len(),
            skipped: p.skipped.clone(),
        });
    }
    let mut page = Page::default();
    if json {
        page.json(&list)?;
        return page.print();
    }
    let mut rows = vec![vec![
        "profile".to_owned(),
        "default".to_owned(),
        "instances".to_owned(),
        "skips".to_owned(),
        "description".to_owned(),
    ]];
    for p in &list {
        rows.push(vec![
            p.name.clone(),
            if p.default { "yes" } else { "" }.to_owned(),
            p.instances.to_string(),
            if p.skipped.is_empty() {
                "-".to_owned()
            } else {
                p.skipped.join(",")
            },
            p.description.clone().unwrap_or_default(),
        ]);
    }
    table(&mut page, &rows);
    page.print()
}
