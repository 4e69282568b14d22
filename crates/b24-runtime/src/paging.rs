//! List methods page by `start` (50 a page) and answer `next` and `total`; a [`Stream`]
//! walks the pages one at a time, holding one page in memory.

use std::collections::VecDeque;

use b24_core::{Error, PagedMethod};
use futures_util::Stream;
use serde_json::Value;

use crate::Client;

struct Pager<M: PagedMethod> {
    client: Client,
    request: M,
    next_start: Option<u64>,
    page: VecDeque<M::Item>,
}

impl Client {
    /// Every item of a list method, page after page (`start` = 0, then each answer's `next`),
    /// with the client's limits and retries. Stops after the first error, which it yields.
    pub fn paginate<M>(
        &self,
        request: M,
    ) -> impl Stream<Item = Result<M::Item, Error<M::ErrorCode>>>
    where
        M: PagedMethod + 'static,
    {
        let pager = Pager {
            client: self.clone(),
            request,
            next_start: Some(0),
            page: VecDeque::new(),
        };
        futures_util::stream::unfold(pager, |mut p| async move {
            loop {
                if let Some(item) = p.page.pop_front() {
                    return Some((Ok(item), p));
                }
                let start = p.next_start.take()?;
                let mut params = p.request.params();
                params.insert("start".into(), Value::from(start));
                match p
                    .client
                    .execute::<Vec<M::Item>, M::ErrorCode>(M::NAME, M::KIND, &params)
                    .await
                {
                    Ok(env) => {
                        p.next_start = env.next.filter(|n| *n > start);
                        p.page = env.result.into();
                    }
                    Err(e) => return Some((Err(e), p)),
                }
            }
        })
    }
}
