//! The operator's durable job store: SQLite (WAL) by default, PostgreSQL for several operator
//! machines sharing one queue — one schema, one code path (`sqlx::any`), and the claim query
//! takes `FOR UPDATE SKIP LOCKED` on PostgreSQL.
//!
//! A job is one market request to one of the operator's models. States:
//! `waiting_input` (hashed input, the client's private input not received yet) → `queued` →
//! `proving` (claimed under a lease) → `sending` (proof made, fulfilment being sent) →
//! `fulfilled`; or `expired` (deadline passed or cannot be met), `closed` (fulfilled or
//! reclaimed by someone else), `failed` (a permanent error, with its reason). Every state change
//! is written before it is acted on; a worker that dies leaves its lease to expire, and whoever
//! claims the job next checks the request on-chain before sending, so nothing is lost and
//! nothing is fulfilled twice. The watcher's block cursor advances in the same transaction that
//! records the requests it saw.

use crate::{MarketError, Result};
use serde::Serialize;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use sqlx::Row;

fn db(e: sqlx::Error) -> MarketError {
    MarketError::Format(format!("job store: {e}"))
}

/// Seconds since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// One request, as the operator tracks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Job {
    pub request_id: String,
    pub model_id: String,
    /// The request's input segment (decimal `uint256`s), as a JSON list.
    pub inputs: String,
    pub deadline: i64,
    pub state: String,
    /// The client's private input (EZKL input JSON), for hashed-input models.
    #[serde(skip_serializing)]
    pub private_input: Option<String>,
    pub tx_hash: Option<String>,
    pub error: Option<String>,
    pub attempts: i64,
    pub updated_at: i64,
    /// The proof (proof.json) once made, so a failed send is retried without proving again.
    #[serde(skip_serializing)]
    pub proof: Option<String>,
}

/// A request the watcher saw.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub request_id: String,
    pub model_id: String,
    pub inputs: String,
    pub deadline: i64,
    /// Whether the model's input is hashed (the job then waits for the private input).
    pub needs_input: bool,
}

const SCHEMA: [&str; 2] = [
    "CREATE TABLE IF NOT EXISTS jobs (request_id TEXT PRIMARY KEY, model_id TEXT NOT NULL, inputs TEXT NOT NULL, deadline BIGINT NOT NULL, state TEXT NOT NULL, private_input TEXT, tx_hash TEXT, error TEXT, attempts BIGINT NOT NULL, lease_until BIGINT NOT NULL, updated_at BIGINT NOT NULL, proof TEXT, owner TEXT)",
    "CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, block BIGINT NOT NULL)",
];

const COLUMNS: &str = "request_id, model_id, inputs, deadline, state, private_input, tx_hash, error, attempts, updated_at, proof";

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    postgres: bool,
}

fn job(r: &sqlx::any::AnyRow) -> Result<Job> {
    Ok(Job {
        request_id: r.try_get(0).map_err(db)?,
        model_id: r.try_get(1).map_err(db)?,
        inputs: r.try_get(2).map_err(db)?,
        deadline: r.try_get(3).map_err(db)?,
        state: r.try_get(4).map_err(db)?,
        private_input: r.try_get(5).map_err(db)?,
        tx_hash: r.try_get(6).map_err(db)?,
        error: r.try_get(7).map_err(db)?,
        attempts: r.try_get(8).map_err(db)?,
        updated_at: r.try_get(9).map_err(db)?,
        proof: r.try_get(10).map_err(db)?,
    })
}

impl Store {
    /// Open (and create) the store at `url`: `sqlite://path` (created, WAL journal) or
    /// `postgres://…`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let url = if !postgres && !url.contains('?') && url.starts_with("sqlite:") { format!("{url}?mode=rwc") } else { url.to_string() };
        let pool = AnyPoolOptions::new().max_connections(if postgres { 8 } else { 4 }).connect(&url).await.map_err(|e| MarketError::Format(format!("cannot open the job store {url}: {e}")))?;
        if !postgres {
            sqlx::query("PRAGMA journal_mode=WAL").execute(&pool).await.map_err(db)?;
        }
        for s in SCHEMA {
            sqlx::query(s).execute(&pool).await.map_err(db)?;
        }
        Ok(Store { pool, postgres })
    }

    /// The last block whose requests are recorded.
    pub async fn cursor(&self) -> Result<Option<u64>> {
        let r = sqlx::query("SELECT block FROM cursor WHERE name = 'requests'").fetch_optional(&self.pool).await.map_err(db)?;
        Ok(match r {
            Some(r) => Some(r.try_get::<i64, _>(0).map_err(db)? as u64),
            None => None,
        })
    }

    /// Record the requests seen up to `block` and advance the cursor, in one transaction.
    /// Returns how many requests were new.
    pub async fn record(&self, jobs: &[NewJob], block: u64) -> Result<usize> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let mut added = 0;
        for j in jobs {
            let state = if j.needs_input { "waiting_input" } else { "queued" };
            let r = sqlx::query("INSERT INTO jobs (request_id, model_id, inputs, deadline, state, attempts, lease_until, updated_at) VALUES ($1, $2, $3, $4, $5, 0, 0, $6) ON CONFLICT (request_id) DO NOTHING")
                .bind(&j.request_id)
                .bind(&j.model_id)
                .bind(&j.inputs)
                .bind(j.deadline)
                .bind(state)
                .bind(now())
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            added += r.rows_affected() as usize;
        }
        let b = block as i64;
        sqlx::query("INSERT INTO cursor (name, block) VALUES ('requests', $1) ON CONFLICT (name) DO UPDATE SET block = $2")
            .bind(b)
            .bind(b)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(added)
    }

    /// Store a hashed-input request's private input (already checked against its hash) and
    /// queue it. False when the job is not waiting for input.
    pub async fn set_input(&self, request_id: &str, input_json: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE jobs SET private_input = $1, state = 'queued', updated_at = $2 WHERE request_id = $3 AND state = 'waiting_input'")
            .bind(input_json)
            .bind(now())
            .bind(request_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(r.rows_affected() == 1)
    }

    /// Claim, for instance `owner`, the queued job with the nearest deadline (or one whose
    /// worker's lease expired) for `lease` seconds.
    pub async fn claim(&self, lease: i64, owner: &str) -> Result<Option<Job>> {
        let t = now();
        let lock = if self.postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
        let sql = format!(
            "UPDATE jobs SET state = 'proving', lease_until = $1, attempts = attempts + 1, updated_at = $2, owner = $3 WHERE request_id = (SELECT request_id FROM jobs WHERE state = 'queued' OR (state IN ('proving', 'sending') AND lease_until < $4) ORDER BY deadline LIMIT 1{lock}) RETURNING {COLUMNS}"
        );
        let r = sqlx::query(&sql).bind(t + lease).bind(t).bind(owner).bind(t).fetch_optional(&self.pool).await.map_err(db)?;
        r.as_ref().map(job).transpose()
    }

    /// At start-up: the leases instance `owner` held when it stopped (crashed while proving or
    /// sending) end now, so its jobs are taken up at once instead of after the lease.
    pub async fn release_leases_of(&self, owner: &str) -> Result<u64> {
        let r = sqlx::query("UPDATE jobs SET lease_until = 0 WHERE owner = $1 AND state IN ('proving', 'sending')").bind(owner).execute(&self.pool).await.map_err(db)?;
        Ok(r.rows_affected())
    }

    /// Move a job to `state` (recording a transaction hash or an error).
    pub async fn set_state(&self, request_id: &str, state: &str, tx_hash: Option<&str>, error: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE jobs SET state = $1, tx_hash = COALESCE($2, tx_hash), error = $3, updated_at = $4 WHERE request_id = $5")
            .bind(state)
            .bind(tx_hash.map(str::to_string))
            .bind(error.map(str::to_string))
            .bind(now())
            .bind(request_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    /// Record the proof and move to `sending` (before the fulfilment is sent).
    pub async fn set_sending(&self, request_id: &str, proof_json: &str) -> Result<()> {
        sqlx::query("UPDATE jobs SET state = 'sending', proof = $1, error = NULL, updated_at = $2 WHERE request_id = $3")
            .bind(proof_json)
            .bind(now())
            .bind(request_id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(())
    }

    pub async fn get(&self, request_id: &str) -> Result<Option<Job>> {
        let r = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE request_id = $1")).bind(request_id).fetch_optional(&self.pool).await.map_err(db)?;
        r.as_ref().map(job).transpose()
    }

    /// Jobs per state.
    pub async fn counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state ORDER BY state").fetch_all(&self.pool).await.map_err(db)?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(db)?, r.try_get(1).map_err(db)?))).collect()
    }
}
