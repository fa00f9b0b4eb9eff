//! An in-memory provider for unit tests of planning and apply: it keeps resources in a map,
//! fills computed attributes with made-up values, and can be told to fail a given call,
//! to fail the k-th mutating call, or to take a given time per call. Tests that claim AWS
//! behaviour use moto instead.

use super::{Provider, ProviderError, schema};
use crate::addr::ResourceAddr;
use crate::providers::schema::Mode;
use crate::value::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct MemoryProvider {
    pub objects: Mutex<BTreeMap<String, Value>>,
    next_id: AtomicUsize,
    /// Calls made, as "create aws_vpc.main".
    pub calls: Mutex<Vec<String>>,
    /// Fail the call whose description equals this.
    pub fail_on: Mutex<Option<String>>,
    /// Fail the k-th mutating call (1-based), as the fault proxy does.
    pub fail_nth: Mutex<Option<usize>>,
    mutating: AtomicUsize,
    /// How long each call takes, by address ("aws_vpc.main"); `latency` otherwise.
    pub latencies: Mutex<HashMap<String, Duration>>,
    pub latency: Mutex<Duration>,
    /// When each call ran: (description, start, end).
    pub spans: Mutex<Vec<(String, Instant, Instant)>>,
}

impl MemoryProvider {
    async fn record(&self, call: String, addr: &ResourceAddr) -> Result<(), ProviderError> {
        let start = Instant::now();
        let fail = self.fail_on.lock().expect("lock").clone();
        self.calls.lock().expect("lock").push(call.clone());
        let n = self.mutating.fetch_add(1, Ordering::SeqCst) + 1;
        let wait = self
            .latencies
            .lock()
            .expect("lock")
            .get(&addr.to_string())
            .copied()
            .unwrap_or(*self.latency.lock().expect("lock"));
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        self.spans
            .lock()
            .expect("lock")
            .push((call.clone(), start, Instant::now()));
        if fail.as_deref() == Some(call.as_str()) || *self.fail_nth.lock().expect("lock") == Some(n)
        {
            return Err(ProviderError::with_code(
                "InjectedFault",
                format!("{call} failed on purpose"),
            ));
        }
        Ok(())
    }

    fn fill(&self, type_: &str, id: &str, config: &Value) -> Value {
        let mut attrs = config.as_map().cloned().unwrap_or_default();
        if let Some(s) = schema(type_) {
            for a in s.attrs {
                if a.mode == Mode::Computed
                    || (a.mode == Mode::OptionalComputed
                        && attrs.get(a.name).is_none_or(Value::is_null))
                {
                    let v = match a.name {
                        "id" => Value::str(id),
                        "arn" => Value::str(format!("arn:memory:{type_}/{id}")),
                        "tags_all" => continue,
                        _ => Value::str(format!("{}-{id}", a.name)),
                    };
                    attrs.insert(a.name.to_string(), v);
                }
            }
        }
        attrs.insert("id".into(), Value::str(id));
        Value::Map(attrs)
    }
}

impl Provider for MemoryProvider {
    async fn create(&self, addr: &ResourceAddr, config: &Value) -> Result<Value, ProviderError> {
        self.record(format!("create {addr}"), addr).await?;
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let id = format!("{}-{n}", addr.type_);
        let value = self.fill(&addr.type_, &id, config);
        self.objects.lock().expect("lock").insert(id, value.clone());
        Ok(value)
    }

    async fn read(&self, _type_: &str, prior: &Value) -> Result<Option<Value>, ProviderError> {
        let id = prior.get("id").as_str().unwrap_or_default();
        Ok(self.objects.lock().expect("lock").get(id).cloned())
    }

    async fn update(
        &self,
        addr: &ResourceAddr,
        prior: &Value,
        config: &Value,
    ) -> Result<Value, ProviderError> {
        self.record(format!("update {addr}"), addr).await?;
        let id = prior.get("id").as_str().unwrap_or_default().to_string();
        let value = self.fill(&addr.type_, &id, config);
        self.objects.lock().expect("lock").insert(id, value.clone());
        Ok(value)
    }

    async fn delete(&self, addr: &ResourceAddr, prior: &Value) -> Result<(), ProviderError> {
        self.record(format!("delete {addr}"), addr).await?;
        let id = prior.get("id").as_str().unwrap_or_default();
        self.objects.lock().expect("lock").remove(id);
        Ok(())
    }

    /// By the `keel:address` tag, as AWS objects are found.
    async fn find(
        &self,
        addr: &ResourceAddr,
        _config: &Value,
        _token: &str,
        _owned_only: bool,
    ) -> Result<Vec<Value>, ProviderError> {
        let want = addr.to_string();
        Ok(self
            .objects
            .lock()
            .expect("lock")
            .values()
            .filter(|v| v.get("tags_all").get(crate::eval::TAG_ADDRESS).as_str() == Some(&want))
            .cloned()
            .collect())
    }

    /// Every result made up as `RESULT-N`, `id` as `TYPE-N`.
    async fn read_data(&self, type_: &str, config: &Value) -> Result<Value, ProviderError> {
        // A read path: recorded, never counted among the mutating calls.
        self.calls
            .lock()
            .expect("lock")
            .push(format!("read_data {type_}"));
        let n = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut attrs = config.as_map().cloned().unwrap_or_default();
        if let Some(s) = super::data_schema(type_) {
            for r in s.results {
                let v = attrs.entry(r.to_string()).or_insert(Value::Null);
                if v.is_null() {
                    *v = Value::str(format!("{r}-{n}"));
                }
            }
        }
        attrs.insert("id".into(), Value::str(format!("{type_}-{n}")));
        Ok(Value::Map(attrs))
    }
}
