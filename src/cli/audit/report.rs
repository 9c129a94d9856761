//! The audit's report: one serde type, rendered as Markdown or written as JSON, so both say
//! the same thing. It names what was checked and how, the seed (and whether it was given) and
//! the sample, each comparison, and what a clean sample rules out.

use crate::cache::Platform;
use crate::graph::Instance;
use crate::spec::AuditPolicy;
use crate::workspace::{EntryComparison, ReferenceReport, Verdict, VerifyReport};

use super::super::page::{outln, Page};
use super::super::pull::Pulled;
use super::sample::escaping_fraction;

/// One instance whose key, recomputed here, is not the lock's.
#[derive(serde::Serialize)]
pub(super) struct KeyMismatch {
    pub(super) instance: String,
    pub(super) lock_key: Option<String>,
    pub(super) key: Option<String>,
    pub(super) reasons: Vec<String>,
}

/// One re-run or re-executed instance and how its results compare with the lock's.
#[derive(serde::Serialize)]
pub(super) struct Recheck {
    pub(super) instance: String,
    pub(super) stage: String,
    /// `always` (step 3) or `sample` (step 4).
    pub(super) policy: AuditPolicy,
    /// `None`: the re-execution itself failed.
    pub(super) verdict: Option<Verdict>,
    /// The largest metric difference seen.
    pub(super) worst: f64,
    pub(super) seconds: Option<f64>,
    pub(super) problem: Option<String>,
    /// The device and tool versions the producer's record names (`None`: an older record).
    pub(super) producer: Option<Platform>,
    /// Those of this re-execution.
    pub(super) auditor: Option<Platform>,
    /// How they differ (reported; not a problem by itself).
    pub(super) platform_differences: Vec<String>,
}

impl Recheck {
    pub(super) fn compared(
        inst: &Instance,
        policy: AuditPolicy,
        c: EntryComparison,
        seconds: f64,
    ) -> Recheck {
        Recheck {
            instance: inst.id.clone(),
            stage: inst.stage_name.clone(),
            policy,
            verdict: Some(c.verdict),
            worst: c.worst,
            seconds: Some(seconds),
            problem: c.problem,
            producer: None,
            auditor: None,
            platform_differences: Vec::new(),
        }
    }

    pub(super) fn failed(inst: &Instance, policy: AuditPolicy, why: String) -> Recheck {
        Recheck {
            instance: inst.id.clone(),
            stage: inst.stage_name.clone(),
            policy,
            verdict: None,
            worst: 0.0,
            seconds: None,
            problem: Some(why),
            producer: None,
            auditor: None,
            platform_differences: Vec::new(),
        }
    }

    /// Sets the producer's and the auditor's platforms and their differences.
    pub(super) fn platforms(&mut self, producer: Option<Platform>, auditor: Platform) {
        self.platform_differences = match &producer {
            Some(p) => p.differences(&auditor),
            None => vec!["the producer's record names no device or tool versions (written before they were recorded)".to_owned()],
        };
        self.producer = producer;
        self.auditor = Some(auditor);
    }

    fn clean(&self) -> bool {
        matches!(self.verdict, Some(Verdict::Exact | Verdict::Tolerant))
    }
}

/// How the sample was drawn.
#[derive(serde::Serialize)]
pub(super) struct Sampling {
    /// Instances of `audit: sample` stages among those audited.
    pub(super) candidates: usize,
    /// Instances of `audit: never` stages (digest and key checks only).
    pub(super) never: usize,
    /// `--sample` as given (`0` when not).
    pub(super) requested: String,
    /// The drawn instances, in drawing order.
    pub(super) drawn: Vec<String>,
}

/// `--reference LOCK`: the audited lock's entries against another lock's.
#[derive(serde::Serialize)]
pub(super) struct ReferenceCheck {
    exact: usize,
    tolerant: usize,
    derived: usize,
    mismatched: usize,
    /// The largest metric difference seen.
    worst: f64,
    /// One line per disagreement.
    problems: Vec<String>,
}

impl ReferenceCheck {
    pub(super) fn new(r: ReferenceReport) -> ReferenceCheck {
        ReferenceCheck {
            exact: r.exact,
            tolerant: r.tolerant,
            derived: r.derived,
            mismatched: r.mismatched,
            worst: r.worst,
            problems: r.problems,
        }
    }
}

/// What a clean sample rules out.
#[derive(serde::Serialize)]
struct Escape {
    /// Re-executed sample instances.
    k: usize,
    /// The escape probability the fraction is given for.
    probability: f64,
    /// The fraction f of bad results with (1 - f)^k = probability.
    fraction: f64,
    statement: String,
}

/// The whole report.
#[derive(serde::Serialize)]
pub(super) struct AuditReport {
    profile: String,
    remote: String,
    pull: serde_json::Value,
    verify: Option<serde_json::Value>,
    keys: serde_json::Value,
    /// The seed of the sample, and whether `--seed` gave it.
    seed: u64,
    seed_given: bool,
    sample: Option<Sampling>,
    /// Steps 3 and 4, in the order they ran (`None`: not run, the inputs are not the lock's).
    rechecks: Option<Vec<Recheck>>,
    escape: Option<Escape>,
    /// `--reference LOCK`; `null` when not asked for, `{"path", "compared": null}` when the
    /// pull failed (the lock's entries are then not the pulled ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    reference: Option<serde_json::Value>,
    #[serde(skip)]
    reference_check: Option<(String, Option<ReferenceCheck>)>,
    limits: &'static str,
    clean: bool,
    #[serde(skip)]
    problems: usize,
    #[serde(skip)]
    digest_problems: Vec<String>,
    #[serde(skip)]
    pull_problems: Vec<String>,
    #[serde(skip)]
    mismatches: Vec<KeyMismatch>,
    #[serde(skip)]
    checked_keys: usize,
}

const LIMITS: &str = "a difference of device or tool versions between producer and auditor is reported, not counted as a problem (the numbers are compared within tolerance instead); re-executions run one at a time, each with the thread limits of `repro run` at its default `-j` (one thread per CPU slot the stage asks for); a producer that ran with other thread counts may get numbers that differ within, or beyond, the tolerance";

impl AuditReport {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        profile: &str,
        pulled: &Pulled,
        verify: Option<&VerifyReport>,
        checked_keys: usize,
        mismatches: Vec<KeyMismatch>,
        rechecks: Option<Vec<Recheck>>,
        sample: Option<Sampling>,
        seed: u64,
        seed_given: bool,
        probability: f64,
    ) -> AuditReport {
        let r = &pulled.report;
        let digest_problems = verify.map(|v| v.problems.clone()).unwrap_or_default();
        let bad_rechecks = rechecks
            .as_ref()
            .map_or(0, |v| v.iter().filter(|c| !c.clean()).count());
        let problems = r.problems.len() + mismatches.len() + digest_problems.len() + bad_rechecks;
        let escape = rechecks.as_ref().and_then(|v| {
            let k = v
                .iter()
                .filter(|c| c.policy == AuditPolicy::Sample)
                .count();
            let candidates = sample.as_ref().map_or(0, |s| s.candidates);
            let fraction = escaping_fraction(k, probability);
            (candidates > 0).then(|| Escape {
                k,
                probability,
                fraction,
                statement: if k == 0 {
                    format!("no instance of the {candidates} of `sample` stages was re-executed (`--sample K`), so their numbers are checked by digest and key only")
                } else {
                    format!(
                        "if a fraction f of the {candidates} results of `sample` stages were bad, all {k} draws would miss them with probability (1 - f)^{k}; a clean sample of {k} leaves a probability of at most {:.0}% that {:.1}% or more of them are bad",
                        probability * 100.0,
                        fraction * 100.0
                    )
                },
            })
        });
        AuditReport {
            profile: profile.to_owned(),
            remote: pulled.remote.clone(),
            pull: serde_json::json!({
                "records": r.records,
                "present": r.present,
                "pulled": r.pulled,
                "objects": r.objects,
                "bytes": r.bytes,
                "requests": r.requests,
                "restored": pulled.restored,
                "problems": r.problems,
            }),
            verify: verify.map(|v| {
                serde_json::json!({
                    "instances": v.instances,
                    "outputs": v.outputs,
                    "objects": v.objects,
                    "problems": v.problems,
                })
            }),
            keys: serde_json::json!({
                "checked": checked_keys,
                "mismatches": mismatches,
            }),
            seed,
            seed_given,
            sample,
            rechecks,
            escape,
            reference: None,
            reference_check: None,
            limits: LIMITS,
            clean: problems == 0,
            problems,
            digest_problems,
            pull_problems: r.problems.clone(),
            mismatches,
            checked_keys,
        }
    }

    /// Adds the comparison with the reference lock at `path` (`None`: not compared, the pull
    /// failed); its disagreements count as problems.
    pub(super) fn reference(&mut self, path: &std::path::Path, check: Option<ReferenceCheck>) {
        let path = path.display().to_string();
        self.problems += check.as_ref().map_or(0, |c| c.problems.len());
        self.clean = self.problems == 0;
        self.reference = Some(match &check {
            Some(c) => serde_json::json!({ "path": path, "compared": c }),
            None => serde_json::json!({ "path": path, "compared": null }),
        });
        self.reference_check = Some((path, check));
    }

    /// Problems found in every step together.
    pub(super) fn problems(&self) -> usize {
        self.problems
    }

    pub(super) fn json(&self, page: &mut Page) {
        match serde_json::to_string_pretty(self) {
            Ok(text) => outln!(page, "{text}"),
            Err(e) => outln!(page, "{{\"error\": \"cannot serialise the report: {e}\"}}"),
        }
    }

    pub(super) fn markdown(&self, page: &mut Page) {
        outln!(
            page,
            "# repro audit: profile `{}`, remote {}\n",
            self.profile,
            self.remote
        );
        outln!(page, "## 1. Pull, then re-hash by digest\n");
        let p = &self.pull;
        outln!(
            page,
            "- {} of {} records pulled ({} already here), {} objects ({} bytes), {} requests; {} instances restored",
            p["pulled"],
            p["records"],
            p["present"],
            p["objects"],
            p["bytes"],
            p["requests"],
            p["restored"]
        );
        for problem in &self.pull_problems {
            outln!(page, "- FAILED {problem}");
        }
        match &self.verify {
            Some(v) => {
                outln!(
                    page,
                    "- re-hashed {} instances: {} outputs, {} objects, {} problem(s)",
                    v["instances"],
                    v["outputs"],
                    v["objects"],
                    self.digest_problems.len()
                );
                for problem in &self.digest_problems {
                    outln!(page, "- MISMATCH {problem}");
                }
            }
            None => outln!(page, "- not re-hashed: the pull failed"),
        }
        outln!(page, "\n## 2. Keys recomputed from this checkout\n");
        if self.pull_problems.is_empty() {
            outln!(
                page,
                "- {} of {} instances have the key `repro.lock` records",
                self.checked_keys - self.mismatches.len(),
                self.checked_keys
            );
            for m in &self.mismatches {
                outln!(
                    page,
                    "- MISMATCH {}: lock `{}`, recomputed `{}`{}",
                    m.instance,
                    m.lock_key.as_deref().unwrap_or("none"),
                    m.key.as_deref().unwrap_or("unknown"),
                    if m.reasons.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", m.reasons.join("; "))
                    }
                );
            }
        } else {
            outln!(page, "- not checked: the pull failed");
        }
        self.markdown_rechecks(page);
        self.markdown_reference(page);
        outln!(page, "\n## Limits\n\n- {}\n", self.limits);
        outln!(
            page,
            "## Verdict: {}",
            if self.clean {
                "clean"
            } else {
                "PROBLEMS FOUND"
            }
        );
    }

    fn markdown_reference(&self, page: &mut Page) {
        let Some((path, check)) = &self.reference_check else {
            return;
        };
        outln!(page, "\n## Against the reference lock `{path}`\n");
        let Some(c) = check else {
            outln!(page, "- not compared: the pull failed");
            return;
        };
        outln!(
            page,
            "Each entry of `repro.lock` was compared with the reference's as `repro verify --reference` compares: keys, then outputs bit for bit, then declared metrics within the stage's tolerance.\n"
        );
        outln!(
            page,
            "- {} exact, {} within tolerance (largest difference {}), {} derived from tolerant upstream, {} mismatched",
            c.exact,
            c.tolerant,
            c.worst,
            c.derived,
            c.mismatched
        );
        for p in &c.problems {
            outln!(page, "- MISMATCH {p}");
        }
    }

    fn markdown_rechecks(&self, page: &mut Page) {
        let Some(rows) = &self.rechecks else {
            outln!(
                page,
                "\n## 3-4. Re-runs\n\n- not run: steps 1 and 2 must be clean first (the inputs are not those `repro.lock` names)"
            );
            return;
        };
        let section = |page: &mut Page, policy: AuditPolicy| {
            let mine: Vec<&Recheck> = rows.iter().filter(|r| r.policy == policy).collect();
            if mine.is_empty() {
                outln!(page, "- none");
            }
            for r in mine {
                let how = match r.verdict {
                    Some(Verdict::Exact) => "exact".to_owned(),
                    Some(Verdict::Tolerant) => {
                        format!("within tolerance (largest difference {})", r.worst)
                    }
                    Some(Verdict::Derived) => "derived".to_owned(),
                    Some(Verdict::Mismatch) => "MISMATCH".to_owned(),
                    None => "FAILED".to_owned(),
                };
                let secs = r.seconds.map_or(String::new(), |s| format!(", {s:.1} s"));
                match &r.problem {
                    Some(p) => outln!(page, "- {how} {}{secs}: {p}", r.instance),
                    None => outln!(page, "- {how} {}{secs}", r.instance),
                }
                if !r.platform_differences.is_empty() {
                    outln!(
                        page,
                        "  - producer vs auditor: {}",
                        r.platform_differences.join("; ")
                    );
                }
            }
        };
        outln!(
            page,
            "\n## 3. Stages marked `audit: always`, re-run from the pulled upstream\n"
        );
        outln!(
            page,
            "Each instance ran in a scratch directory (nothing entered the store or the lock); its outputs were compared with `repro.lock` as `repro verify --reference` compares: bit for bit, or its declared metrics within the stage's tolerance.\n"
        );
        section(page, AuditPolicy::Always);
        outln!(
            page,
            "\n## 4. A random sample of stages marked `audit: sample`\n"
        );
        if let Some(s) = &self.sample {
            outln!(
                page,
                "- seed {} ({}); `--sample {}`: {} of {} candidates drawn, stratified across stages and matrix values; {} instance(s) of `audit: never` stages checked by digest and key only",
                self.seed,
                if self.seed_given {
                    "given by `--seed`"
                } else {
                    "drawn at random; `--seed` repeats this sample"
                },
                s.requested,
                s.drawn.len(),
                s.candidates,
                s.never
            );
        }
        section(page, AuditPolicy::Sample);
        if let Some(e) = &self.escape {
            outln!(
                page,
                "\n## What a clean sample rules out\n\n- {}",
                e.statement
            );
        }
    }
}
