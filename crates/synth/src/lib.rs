//! `trawl generate`: realistic CloudTrail files in CloudTrail's own S3 layout, for demos,
//! tests and benchmarks.
//!
//! Deterministic per seed. The mix: a heavy-tailed spread of ~40 API calls over many services,
//! every identity type, errors, S3 and Lambda data events, console sign-ins, Insight events,
//! digest files, a day/night rhythm, files per account, region and 5-minute window delivered a
//! few minutes late (so some events land in the next day's folder), one plain and one
//! organization trail; plus [`planted`] events for every saved detection and near misses that
//! must not fire. `_manifest.json` counts the records per partition and lists what was planted.

pub mod events;
pub mod planted;
pub mod rng;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde_json::{Value, json};

use events::Where;
use planted::{Planted, SCENARIOS};
use rng::Rng;

/// Why generation failed.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SynthError + '_ {
    move |source| SynthError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Output folder; `AWSLogs/` is created inside it.
    pub out: PathBuf,
    /// Records to generate in all (planted and Insight records included; at least those).
    pub events: u64,
    /// The seed: the same seed gives the same files.
    pub seed: u64,
    /// The first UTC day.
    pub start: NaiveDate,
    /// How many days.
    pub days: u32,
}

/// What was generated, written to `_manifest.json`.
#[derive(Debug, Default, serde::Serialize)]
pub struct Manifest {
    /// The seed used.
    pub seed: u64,
    /// Records written in all (the lake should hold exactly these).
    pub events: u64,
    /// Trail files with records (Insight files included).
    pub files: u64,
    /// Digest files (not records; ingest skips them).
    pub digest_files: u64,
    /// Insight files.
    pub insight_files: u64,
    /// Records per partition, keyed `region=<r>/date=<YYYY-MM-DD>` by eventTime in UTC.
    pub partitions: BTreeMap<String, u64>,
    /// Every planted record.
    pub planted: Vec<Planted>,
}

/// The trail's accounts: one plain trail and one organization trail.
const ACCOUNTS: &[(&str, Option<&str>)] = &[
    ("111122223333", None),
    ("444455556666", Some("o-a1b2c3d4e5")),
];
const ACCOUNT_WEIGHTS: &[f64] = &[0.7, 0.3];
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
];
const REGION_WEIGHTS: &[f64] = &[0.45, 0.2, 0.15, 0.1, 0.1];
const WINDOW_MINUTES: i64 = 5;
const WINDOWS_PER_DAY: usize = 24 * 60 / WINDOW_MINUTES as usize;
const INSIGHT_RECORDS_PER_DAY: u64 = 2;

/// Generates the files and the manifest.
pub fn generate(options: &Options) -> Result<Manifest, SynthError> {
    let days = options.days.max(1) as usize;
    let planted_total: u64 = {
        let mut r = Rng::new(0);
        let at = Where {
            account: String::new(),
            region: String::new(),
            time: DateTime::UNIX_EPOCH,
        };
        SCENARIOS
            .iter()
            .map(|(_, _, build)| build(&mut r, &at).len() as u64)
            .sum()
    };
    let insight_total = INSIGHT_RECORDS_PER_DAY * days as u64;
    let background = options.events.saturating_sub(planted_total + insight_total);

    // Background records per 5-minute window, following a day/night rhythm; the rounding of
    // the running sum makes the total exact.
    let rhythm: Vec<f64> = (0..WINDOWS_PER_DAY)
        .map(|w| {
            1.0 + 0.7 * ((w as f64 / WINDOWS_PER_DAY as f64 - 0.375) * std::f64::consts::TAU).sin()
        })
        .collect();
    let per_day_weight: f64 = rhythm.iter().sum();
    let total_weight = per_day_weight * days as f64;
    let mut counts = Vec::with_capacity(days * WINDOWS_PER_DAY);
    let mut running = 0.0;
    let mut emitted = 0u64;
    for _ in 0..days {
        for w in &rhythm {
            running += w;
            let upto = (background as f64 * running / total_weight).round() as u64;
            counts.push(upto - emitted);
            emitted = upto;
        }
    }

    let manifests: Vec<Result<Manifest, SynthError>> = std::thread::scope(|scope| {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .min(days);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let counts = &counts;
                scope.spawn(move || {
                    let mut m = Manifest::default();
                    for day in (t..days).step_by(threads) {
                        let windows = &counts[day * WINDOWS_PER_DAY..(day + 1) * WINDOWS_PER_DAY];
                        generate_day(options, day, days, windows, &mut m)?;
                    }
                    Ok(m)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("generator thread panicked"))
            .collect()
    });

    let mut manifest = Manifest {
        seed: options.seed,
        ..Manifest::default()
    };
    for m in manifests {
        let m = m?;
        manifest.events += m.events;
        manifest.files += m.files;
        manifest.digest_files += m.digest_files;
        manifest.insight_files += m.insight_files;
        for (k, v) in m.partitions {
            *manifest.partitions.entry(k).or_default() += v;
        }
        manifest.planted.extend(m.planted);
    }
    manifest
        .planted
        .sort_by(|a, b| (a.scenario, &a.event_time).cmp(&(b.scenario, &b.event_time)));
    let path = options.out.join("_manifest.json");
    std::fs::create_dir_all(&options.out).map_err(io(&options.out))?;
    let text = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    std::fs::write(&path, text).map_err(io(&path))?;
    Ok(manifest)
}

type Bucket = Vec<Value>;

fn generate_day(
    options: &Options,
    day: usize,
    days: usize,
    windows: &[u64],
    manifest: &mut Manifest,
) -> Result<(), SynthError> {
    let mut rng = Rng::new(
        options
            .seed
            .wrapping_mul(0x100_0000_01B3)
            .wrapping_add(day as u64),
    );
    let date = options.start + TimeDelta::days(day as i64);
    let midnight = date.and_hms_opt(0, 0, 0).expect("valid time").and_utc();

    // Scenarios planted on this day, at a fixed place in the span.
    let mut planted_by_window: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for s in (0..SCENARIOS.len()).filter(|s| s % days == day) {
        let minute = ((s / days) * 97 + 13 * s + 480) % (24 * 60 - 10);
        planted_by_window
            .entry(minute / WINDOW_MINUTES as usize)
            .or_default()
            .push(s);
    }

    for (w, &count) in windows.iter().enumerate() {
        let window_start = midnight + TimeDelta::minutes(w as i64 * WINDOW_MINUTES);
        let mut buckets: BTreeMap<(usize, usize), Bucket> = BTreeMap::new();
        let mut times: Vec<(i64, usize, usize)> = (0..count)
            .map(|_| {
                let secs = rng.below(WINDOW_MINUTES as u64 * 60) as i64;
                (
                    secs,
                    rng.weighted(ACCOUNT_WEIGHTS),
                    rng.weighted(REGION_WEIGHTS),
                )
            })
            .collect();
        times.sort_unstable();
        for (secs, a, r) in times {
            let at = Where {
                account: ACCOUNTS[a].0.to_string(),
                region: REGIONS[r].to_string(),
                time: window_start + TimeDelta::seconds(secs),
            };
            buckets
                .entry((a, r))
                .or_default()
                .push(events::background(&mut rng, &at));
        }
        for &s in planted_by_window.get(&w).into_iter().flatten() {
            let (name, near_miss, build) = SCENARIOS[s];
            let (a, r) = (s % ACCOUNTS.len(), s % REGIONS.len());
            let at = Where {
                account: ACCOUNTS[a].0.to_string(),
                region: REGIONS[r].to_string(),
                time: window_start + TimeDelta::seconds(60 + (s as i64 * 7) % 120),
            };
            for record in build(&mut rng, &at) {
                manifest.planted.push(Planted {
                    scenario: name,
                    near_miss,
                    event_id: record["eventID"].as_str().unwrap_or_default().to_string(),
                    event_name: record["eventName"].as_str().unwrap_or_default().to_string(),
                    event_time: record["eventTime"].as_str().unwrap_or_default().to_string(),
                    region: at.region.clone(),
                });
                buckets.entry((a, r)).or_default().push(record);
            }
        }
        let delivered =
            window_start + TimeDelta::minutes(WINDOW_MINUTES + 5 + rng.below(10) as i64);
        for ((a, r), records) in buckets {
            let dir = trail_dir(&options.out, a, "CloudTrail", REGIONS[r], delivered);
            let name = format!(
                "{}_CloudTrail_{}_{}_{}.json.gz",
                ACCOUNTS[a].0,
                REGIONS[r],
                delivered.format("%Y%m%dT%H%MZ"),
                rng.string(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                    16
                )
            );
            count_records(manifest, &records);
            write_gz(&dir.join(name), &json!({ "Records": records }))?;
            manifest.files += 1;
        }
    }

    // One Insight pair and one digest file per account-day in the first region.
    for (a, (account, _)) in ACCOUNTS.iter().enumerate() {
        let region = REGIONS[0];
        let at = midnight + TimeDelta::hours(14 + a as i64);
        if a == 0 {
            let records: Vec<Value> = ["Start", "End"]
                .iter()
                .enumerate()
                .map(|(i, state)| {
                    insight(
                        &mut rng,
                        account,
                        region,
                        at + TimeDelta::minutes(30 * i as i64),
                        state,
                    )
                })
                .collect();
            count_records(manifest, &records);
            let dir = trail_dir(&options.out, a, "CloudTrail-Insight", region, at);
            let name = format!(
                "{account}_CloudTrail-Insight_{region}_{}_{}.json.gz",
                at.format("%Y%m%dT%H%MZ"),
                rng.string(b"abcdefghijklmnop0123456789", 16)
            );
            write_gz(&dir.join(name), &json!({ "Records": records }))?;
            manifest.files += 1;
            manifest.insight_files += 1;
        }
        let dir = trail_dir(&options.out, a, "CloudTrail-Digest", region, at);
        let name = format!(
            "{account}_CloudTrail-Digest_{region}_org-trail_{region}_{}.json.gz",
            at.format("%Y%m%dT%H%M%SZ")
        );
        let digest = json!({
            "awsAccountId": account,
            "digestStartTime": midnight.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "digestEndTime": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "digestS3Bucket": "org-cloudtrail-logs",
            "digestSignatureAlgorithm": "SHA256withRSA",
            "logFiles": [],
        });
        write_gz(&dir.join(name), &digest)?;
        manifest.digest_files += 1;
    }
    Ok(())
}

fn insight(rng: &mut Rng, account: &str, region: &str, at: DateTime<Utc>, state: &str) -> Value {
    json!({
        "eventVersion": "1.08",
        "eventTime": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "awsRegion": region,
        "eventID": rng.uuid(),
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": account,
        "sharedEventID": rng.uuid(),
        "insightDetails": {
            "state": state,
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "insightType": "ApiCallRateInsight",
            "insightContext": {
                "statistics": {
                    "baseline": {"average": 0.0034},
                    "insight": {"average": 2.1},
                    "insightDuration": 1
                }
            }
        },
        "eventCategory": "Insight"
    })
}

fn trail_dir(out: &Path, account: usize, kind: &str, region: &str, at: DateTime<Utc>) -> PathBuf {
    let (id, org) = ACCOUNTS[account];
    let mut dir = out.join("AWSLogs");
    if let Some(org) = org {
        dir.push(org);
    }
    dir.join(id)
        .join(kind)
        .join(region)
        .join(at.format("%Y/%m/%d").to_string())
}

fn count_records(manifest: &mut Manifest, records: &[Value]) {
    for r in records {
        let time = r["eventTime"].as_str().unwrap_or_default();
        let key = format!(
            "region={}/date={}",
            r["awsRegion"].as_str().unwrap_or_default(),
            &time[..10]
        );
        *manifest.partitions.entry(key).or_default() += 1;
        manifest.events += 1;
    }
}

fn write_gz(path: &Path, value: &Value) -> Result<(), SynthError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let file = File::create(path).map_err(io(path))?;
    let mut gz = GzEncoder::new(BufWriter::new(file), Compression::default());
    serde_json::to_writer(&mut gz, value).map_err(|e| io(path)(e.into()))?;
    gz.finish().and_then(|mut w| w.flush()).map_err(io(path))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64, events: u64) -> (tempfile::TempDir, Manifest) {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            out: dir.path().to_path_buf(),
            events,
            seed,
            start: NaiveDate::from_ymd_opt(2024, 3, 1).unwrap(),
            days: 3,
        };
        let m = generate(&options).unwrap();
        (dir, m)
    }

    #[test]
    fn counts_add_up_and_every_scenario_is_planted() {
        let (_dir, m) = run(1, 3000);
        assert_eq!(m.events, 3000);
        assert_eq!(m.partitions.values().sum::<u64>(), 3000);
        for (name, _, _) in SCENARIOS {
            assert!(m.planted.iter().any(|p| p.scenario == *name), "{name}");
        }
        assert_eq!(m.digest_files, 6);
        assert_eq!(m.insight_files, 3);
    }

    #[test]
    fn same_seed_same_files() {
        let list = |dir: &Path| {
            let mut v: Vec<(PathBuf, Vec<u8>)> = walk(dir);
            v.sort();
            v
        };
        let (a, _) = run(7, 800);
        let (b, _) = run(7, 800);
        let (c, _) = run(8, 800);
        assert_eq!(list(a.path()), list(b.path()));
        assert_ne!(list(a.path()), list(c.path()));
    }

    fn walk(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push((
                    p.strip_prefix(dir).unwrap_or(&p).to_path_buf(),
                    std::fs::read(&p).unwrap(),
                ));
            }
        }
        out
    }
}
