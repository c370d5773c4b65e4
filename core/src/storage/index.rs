//! The series index: label sets as stored in `series.labels`, and matcher
//! resolution over the `postings` table (label name/value → series ids).

use rusqlite::{params, Connection};

use super::bits::{get_varint, put_varint};
use crate::error::{Error, Result};
use crate::model::{Labels, MatchOp, Matcher};

/// Encodes a label set as `(varint len, name, varint len, value)*`.
pub(crate) fn encode_labels(labels: &Labels) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    for l in labels {
        put_varint(&mut out, l.name.len() as u64);
        out.extend_from_slice(l.name.as_bytes());
        put_varint(&mut out, l.value.len() as u64);
        out.extend_from_slice(l.value.as_bytes());
    }
    out
}

pub(crate) fn decode_labels(bytes: &[u8]) -> Result<Labels> {
    let mut pos = 0;
    let mut pairs = Vec::new();
    let take = |pos: &mut usize| -> Result<String> {
        let len = get_varint(bytes, pos)? as usize;
        let s = bytes.get(*pos..*pos + len).ok_or_else(|| Error::Corrupt("series labels end early".into()))?;
        *pos += len;
        String::from_utf8(s.to_vec()).map_err(|_| Error::Corrupt("series label is not UTF-8".into()))
    };
    while pos < bytes.len() {
        let name = take(&mut pos)?;
        let value = take(&mut pos)?;
        pairs.push((name, value));
    }
    Ok(Labels::from_pairs(pairs))
}

pub(crate) fn insert_postings(conn: &Connection, id: i64, labels: &Labels) -> Result<()> {
    let mut stmt = conn.prepare_cached("INSERT INTO postings (name, value, series_id) VALUES (?1, ?2, ?3)")?;
    for l in labels {
        stmt.execute(params![l.name, l.value, id])?;
    }
    Ok(())
}

pub(crate) fn delete_postings(conn: &Connection, id: i64, labels: &Labels) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM postings WHERE name = ?1 AND value = ?2 AND series_id = ?3")?;
    for l in labels {
        stmt.execute(params![l.name, l.value, id])?;
    }
    Ok(())
}

/// Ids of every series, ascending.
fn all_series(conn: &Connection) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM series ORDER BY id")?;
    let ids = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Series that carry label `name` with a value for which `keep(value)` holds, ascending.
fn series_with_value(conn: &Connection, name: &str, keep: impl Fn(&str) -> bool) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT value, series_id FROM postings WHERE name = ?1")?;
    let mut rows = stmt.query([name])?;
    let mut ids = Vec::new();
    // Rows come grouped by value, so each distinct value is tested once.
    let mut last: Option<(String, bool)> = None;
    while let Some(row) = rows.next()? {
        let value = row.get_ref(0)?.as_str().map_err(|e| Error::Corrupt(e.to_string()))?;
        let keep_it = match &last {
            Some((v, k)) if v == value => *k,
            _ => {
                let k = keep(value);
                last = Some((value.to_string(), k));
                k
            }
        };
        if keep_it {
            ids.push(row.get(1)?);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// Series with `name="value"` exactly, ascending.
fn series_with_exact(conn: &Connection, name: &str, value: &str) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT series_id FROM postings WHERE name = ?1 AND value = ?2")?;
    let ids = stmt.query_map([name, value], |r| r.get(0))?.collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(ids)
}

/// Below this many candidates, the remaining matchers are checked against the
/// candidates' labels instead of the postings.
const FILTER_BY_LABELS: usize = 64;

/// Below this many candidates, a remaining regex or `!=` matcher is checked
/// against the candidates' labels rather than by scanning every value of its
/// label in the postings.
const FILTER_PATTERNS_BY_LABELS: usize = 4096;

/// Ids of the series matching every matcher, ascending. No matchers selects
/// every series. A matcher that matches the empty string also selects series
/// lacking the label, as in Prometheus. `labels_of` returns a series' labels
/// (from a cache), used once few candidates are left.
pub(crate) fn resolve(
    conn: &Connection,
    matchers: &[Matcher],
    labels_of: &mut dyn FnMut(i64) -> Result<Labels>,
) -> Result<Vec<i64>> {
    let (mut positive, negative): (Vec<&Matcher>, Vec<&Matcher>) = matchers.iter().partition(|m| !m.matches_empty());
    // Equality first, the most selective of them first.
    if positive.iter().filter(|m| m.op == MatchOp::Equal).count() > 1 {
        let mut counts = Vec::with_capacity(positive.len());
        for m in &positive {
            let c = if m.op == MatchOp::Equal {
                count_exact_up_to(conn, &m.name, &m.value, FILTER_BY_LABELS + 1)?
            } else {
                u64::MAX
            };
            counts.push(c);
        }
        let mut keyed: Vec<(u64, &Matcher)> = counts.into_iter().zip(positive).collect();
        keyed.sort_by_key(|(c, _)| *c);
        positive = keyed.into_iter().map(|(_, m)| m).collect();
    } else {
        positive.sort_by_key(|m| m.op != MatchOp::Equal);
    }
    let mut include: Option<Vec<i64>> = None;
    let mut used = 0;
    for m in &positive {
        let few = match m.op {
            MatchOp::Equal => FILTER_BY_LABELS,
            _ => FILTER_PATTERNS_BY_LABELS,
        };
        if include.as_ref().is_some_and(|ids| ids.len() <= few) {
            break;
        }
        let ids = match m.op {
            MatchOp::Equal => series_with_exact(conn, &m.name, &m.value)?,
            _ => series_with_value(conn, &m.name, |v| m.matches(v))?,
        };
        include = Some(match include {
            None => ids,
            Some(prev) => intersect(&prev, &ids),
        });
        used += 1;
        if include.as_ref().is_some_and(Vec::is_empty) {
            return Ok(Vec::new());
        }
    }
    let rest: Vec<&Matcher> = positive[used..].iter().chain(&negative).copied().collect();
    if let Some(mut ids) = include {
        if !rest.is_empty() && (ids.len() <= FILTER_PATTERNS_BY_LABELS || used < positive.len()) {
            let mut kept = Vec::with_capacity(ids.len());
            for id in ids {
                let labels = labels_of(id)?;
                if rest.iter().all(|m| m.matches_labels(&labels)) {
                    kept.push(id);
                }
            }
            return Ok(kept);
        }
        subtract_rejected(conn, &negative, &mut ids)?;
        return Ok(ids);
    }
    let mut ids = all_series(conn)?;
    subtract_rejected(conn, &negative, &mut ids)?;
    Ok(ids)
}

/// Removes from `ids` the series that have a label whose value one of the
/// (empty-matching) `matchers` rejects.
fn subtract_rejected(conn: &Connection, matchers: &[&Matcher], ids: &mut Vec<i64>) -> Result<()> {
    let mut exclude = Vec::new();
    for m in matchers {
        exclude.extend(match m.op {
            MatchOp::NotEqual => series_with_exact(conn, &m.name, &m.value)?,
            _ => series_with_value(conn, &m.name, |v| !m.matches(v))?,
        });
    }
    if !exclude.is_empty() {
        exclude.sort_unstable();
        ids.retain(|id| exclude.binary_search(id).is_err());
    }
    Ok(())
}

/// How many series have `name="value"`, counting no further than `cap`
/// (only "few or many" matters, and counting a large set is not free).
fn count_exact_up_to(conn: &Connection, name: &str, value: &str, cap: usize) -> Result<u64> {
    let mut stmt =
        conn.prepare_cached("SELECT COUNT(*) FROM (SELECT 1 FROM postings WHERE name = ?1 AND value = ?2 LIMIT ?3)")?;
    Ok(stmt.query_row(params![name, value, cap as i64], |r| r.get::<_, i64>(0))? as u64)
}

fn intersect(a: &[i64], b: &[i64]) -> Vec<i64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_with(series: &[Labels]) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        super::super::schema::create(&conn).unwrap();
        for (i, l) in series.iter().enumerate() {
            let id = i as i64 + 1;
            conn.execute(
                "INSERT INTO series (id, labels, log_from_seq) VALUES (?1, ?2, 0)",
                params![id, encode_labels(l)],
            )
            .unwrap();
            insert_postings(&conn, id, l).unwrap();
        }
        conn
    }

    fn m(op: MatchOp, name: &str, value: &str) -> Matcher {
        Matcher::new(op, name, value).unwrap()
    }

    #[test]
    fn labels_encoding_round_trips_any_utf8() {
        let l = Labels::from_pairs([("__name__", "a.b"), ("x", "\u{0}\n\"é"), ("y", "")]);
        assert_eq!(decode_labels(&encode_labels(&l)).unwrap(), l);
        assert!(decode_labels(&[5, b'a']).is_err());
    }

    fn resolve(conn: &Connection, matchers: &[Matcher]) -> Result<Vec<i64>> {
        super::resolve(conn, matchers, &mut |id| {
            let bytes: Vec<u8> = conn.query_row("SELECT labels FROM series WHERE id = ?1", [id], |r| r.get(0))?;
            decode_labels(&bytes)
        })
    }

    #[test]
    fn all_four_matcher_kinds_resolve_like_prometheus() {
        let s = |pairs: &[(&str, &str)]| Labels::from_pairs(pairs.iter().copied());
        let conn = db_with(&[
            s(&[("__name__", "up"), ("job", "api"), ("env", "prod")]), // 1
            s(&[("__name__", "up"), ("job", "web")]),                  // 2
            s(&[("__name__", "up"), ("job", "db"), ("env", "dev")]),   // 3
            s(&[("__name__", "other"), ("job", "api")]),               // 4
        ]);
        let up = m(MatchOp::Equal, "__name__", "up");
        assert_eq!(resolve(&conn, std::slice::from_ref(&up)).unwrap(), vec![1, 2, 3]);
        assert_eq!(resolve(&conn, &[up.clone(), m(MatchOp::NotEqual, "job", "api")]).unwrap(), vec![2, 3]);
        assert_eq!(resolve(&conn, &[up.clone(), m(MatchOp::RegexMatch, "job", "api|db")]).unwrap(), vec![1, 3]);
        assert_eq!(resolve(&conn, &[up.clone(), m(MatchOp::RegexNoMatch, "job", "a.*")]).unwrap(), vec![2, 3]);
        // Empty-matching matchers select series without the label too.
        assert_eq!(resolve(&conn, &[up.clone(), m(MatchOp::Equal, "env", "")]).unwrap(), vec![2]);
        assert_eq!(resolve(&conn, &[up.clone(), m(MatchOp::RegexMatch, "env", "prod|")]).unwrap(), vec![1, 2]);
        assert_eq!(resolve(&conn, &[up.clone(), m(MatchOp::NotEqual, "env", "")]).unwrap(), vec![1, 3]);
        assert_eq!(resolve(&conn, &[m(MatchOp::RegexMatch, "job", ".+")]).unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(resolve(&conn, &[m(MatchOp::NotEqual, "job", "api")]).unwrap(), vec![2, 3]);
        assert_eq!(resolve(&conn, &[]).unwrap(), vec![1, 2, 3, 4]);
        assert!(resolve(&conn, &[m(MatchOp::Equal, "__name__", "nope"), up]).unwrap().is_empty());
    }

    #[test]
    fn resolution_agrees_with_brute_force_on_many_series() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let names = ["a", "b", "c"];
        let values = ["x", "y", "z", "xy", ""];
        // Enough series that every path (postings scans and label checks) is taken.
        let series: Vec<Labels> = (0..6000)
            .map(|i| {
                let mut pairs = vec![("__name__".to_string(), format!("m{}", i % 3)), ("i".to_string(), i.to_string())];
                for n in names {
                    pairs.push((n.to_string(), values[rng.gen_range(0..values.len())].to_string()));
                }
                Labels::from_pairs(pairs)
            })
            .collect();
        let conn = db_with(&series);
        let ops = [MatchOp::Equal, MatchOp::NotEqual, MatchOp::RegexMatch, MatchOp::RegexNoMatch];
        let patterns = ["x", "y", "", "x.*", ".+", "xy|z", ".*"];
        for _ in 0..150 {
            let n = rng.gen_range(1..4);
            let matchers: Vec<Matcher> = (0..n)
                .map(|_| {
                    let op = ops[rng.gen_range(0..4)];
                    let name = if rng.gen_bool(0.2) { "__name__" } else { names[rng.gen_range(0..3)] };
                    let value = if name == "__name__" {
                        ["m0", "m1", "m.*"][rng.gen_range(0..3)]
                    } else {
                        patterns[rng.gen_range(0..patterns.len())]
                    };
                    m(op, name, value)
                })
                .collect();
            let expected: Vec<i64> = series
                .iter()
                .enumerate()
                .filter(|(_, l)| matchers.iter().all(|m| m.matches_labels(l)))
                .map(|(i, _)| i as i64 + 1)
                .collect();
            assert_eq!(resolve(&conn, &matchers).unwrap(), expected, "{matchers:?}");
        }
    }
}
