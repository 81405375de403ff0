//! What one caller's JSON bodies may take at once once read. A body is
//! bounded on its own (`weight::check`: at most 256 MiB once read), but a
//! job may have several read at once: each body takes its weight from the
//! job's budget before it is parsed and gives it back once its request is
//! answered (or once the work it was read for ends, where that outlives
//! the request: [`HeldWeight`]), so a job past its budget waits on its own
//! requests, and no other job's. The budget counts the values a body is
//! read into, not copies a handler makes of them after.

use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::http::Extensions;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is counted in these.
const UNIT: usize = 1 << 10;

/// What one caller's bodies may weigh in all while their requests are
/// served (see `weight::text_weight`).
#[derive(Debug, Clone)]
pub struct WeightBudget {
    units: Arc<Semaphore>,
    /// The whole budget, in units: a body heavier than all of it takes
    /// all of it, alone.
    whole: u32,
}

impl WeightBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        let whole = u32::try_from(bytes / UNIT).unwrap_or(u32::MAX).max(1);
        Self {
            units: Arc::new(Semaphore::new(whole as usize)),
            whole,
        }
    }

    /// What is left of it, in bytes.
    #[cfg(test)]
    fn available(&self) -> usize {
        self.units.available_permits() * UNIT
    }
}

/// A request's budget and what it took of it, kept until it is answered,
/// and as long after as a handler keeps it (see [`HeldWeight`]).
#[derive(Debug, Clone)]
struct Taking {
    budget: WeightBudget,
    taken: Arc<Mutex<Vec<OwnedSemaphorePermit>>>,
}

/// Middleware: the requests under it take their bodies' weight from
/// `budget` ([`take`]), and give it back once answered.
pub async fn within_budget(
    State(budget): State<WeightBudget>,
    mut request: Request,
    next: Next,
) -> Response {
    let taking = Taking {
        budget,
        taken: Arc::default(),
    };
    request.extensions_mut().insert(taking.clone());
    let response = next.run(request).await;
    // The handler, and the value it read, are gone (unless it holds them
    // on: `HeldWeight`): the weight goes back.
    drop(taking);
    response
}

/// What a request took of its budget, for a handler whose work outlives
/// the request (a batch stored to its end though its connection was
/// cut): held, the weight is not given back. Nothing under no budget.
#[derive(Debug, Clone, Default)]
pub struct HeldWeight {
    /// Kept, never read: dropped, the permits go back.
    _taken: Option<Arc<Mutex<Vec<OwnedSemaphorePermit>>>>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for HeldWeight {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let taken = parts
            .extensions
            .get::<Taking>()
            .map(|taking| Arc::clone(&taking.taken));
        Ok(Self { _taken: taken })
    }
}

/// Takes `weight` bytes from the budget of the request with `extensions`,
/// waiting until it has them, and keeps them until the request is
/// answered; nothing under no budget.
pub async fn take(extensions: &Extensions, weight: usize) {
    let Some(taking) = extensions.get::<Taking>() else {
        return;
    };
    let units = u32::try_from(weight.div_ceil(UNIT))
        .unwrap_or(u32::MAX)
        .min(taking.budget.whole);
    if let Ok(permit) = Arc::clone(&taking.budget.units)
        .acquire_many_owned(units)
        .await
    {
        taking
            .taken
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(permit);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::routing::post;
    use serde_json::{Value, json};
    use tower::ServiceExt;

    use super::*;
    use crate::http::ApiJson;

    /// Two bodies that each take most of the budget once read: the second
    /// is not read until the first is answered; a light one goes beside
    /// a heavy one. (Those after a waiting body wait behind it: the
    /// budget is handed out in turn.)
    #[tokio::test]
    async fn a_body_waits_for_the_weight_the_ones_before_it_hold() {
        let budget = WeightBudget::new(1 << 20);
        let (entered, mut entries) = tokio::sync::mpsc::unbounded_channel::<usize>();
        let release = Arc::new(tokio::sync::Notify::new());
        let router = {
            let release = Arc::clone(&release);
            Router::new()
                .route(
                    "/",
                    post(move |ApiJson(body): ApiJson<Value>| {
                        let (entered, release) = (entered.clone(), Arc::clone(&release));
                        async move {
                            let items = body.as_array().map_or(0, Vec::len);
                            let _ = entered.send(items);
                            if items > 1 {
                                release.notified().await;
                            }
                        }
                    }),
                )
                .layer(axum::middleware::from_fn_with_state(
                    budget.clone(),
                    within_budget,
                ))
        };
        // 10,000 zeros: about 640 KB once read, 20 KB of text.
        let heavy = json!(vec![0; 10_000]).to_string();
        let tasks = tokio_util::task::TaskTracker::new();
        let send = |body: String| {
            let request = axum::http::Request::post("/")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .expect("request");
            tasks.spawn(router.clone().oneshot(request))
        };
        let first = send(heavy.clone());
        assert_eq!(entries.recv().await, Some(10_000));
        assert!(budget.available() < 512 << 10, "{}", budget.available());
        let light = send("[0]".into());
        assert_eq!(entries.recv().await, Some(1), "a light body goes beside it");
        let second = send(heavy);
        let waited = tokio::time::timeout(Duration::from_millis(300), entries.recv()).await;
        assert!(
            waited.is_err(),
            "the second heavy body was read: {waited:?}"
        );
        release.notify_one();
        first.await.expect("task").expect("answer");
        assert_eq!(
            entries.recv().await,
            Some(10_000),
            "read once the first is answered"
        );
        release.notify_one();
        second.await.expect("task").expect("answer");
        light.await.expect("task").expect("answer");
        assert_eq!(budget.available(), 1 << 20, "every weight given back");
    }

    /// Weight held by work that outlives its request (a batch stored to
    /// its end) goes back when that work ends, not with the answer.
    #[tokio::test]
    async fn weight_held_past_the_answer_goes_back_when_it_is_let_go() {
        let budget = WeightBudget::new(1 << 20);
        let (keep, mut kept) = tokio::sync::mpsc::unbounded_channel::<HeldWeight>();
        let router = Router::new()
            .route(
                "/",
                post(move |held: HeldWeight, ApiJson(_): ApiJson<Value>| {
                    let keep = keep.clone();
                    async move {
                        let _ = keep.send(held);
                    }
                }),
            )
            .layer(axum::middleware::from_fn_with_state(
                budget.clone(),
                within_budget,
            ));
        let request = axum::http::Request::post("/")
            .header("content-type", "application/json")
            .body(Body::from(json!(vec![0; 10_000]).to_string()))
            .expect("request");
        router.oneshot(request).await.expect("answer");
        let held = kept.recv().await.expect("held");
        assert!(budget.available() < 512 << 10, "{}", budget.available());
        drop(held);
        assert_eq!(budget.available(), 1 << 20);
    }
}
