//! Paginated AWS answers read whole: the items of every page a Describe* or List* paginator
//! yields, gathered in order, with a failing page reported under its operation's name.

use super::sdk_error;
use crate::providers::ProviderError;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_async::future::pagination_stream::PaginationStream;

/// What `keep` draws from each item of every page of `pages`, in order. `items` picks a
/// page's list (`|p| p.vpcs()`); `keep` turns one item into what the caller gathers: an
/// `Option` to skip items (`|v| Some((v.vpc_id()?.to_string(), v.clone()))`), or a `Vec`
/// for items that hold several (reservations and their instances). `op` names the call in
/// an error ("DescribeVpcs").
pub(crate) async fn from_pages<O, E, R, X, I>(
    op: &str,
    mut pages: PaginationStream<Result<O, SdkError<E, R>>>,
    items: impl Fn(&O) -> &[X],
    mut keep: impl FnMut(&X) -> I,
) -> Result<Vec<I::Item>, ProviderError>
where
    I: IntoIterator,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error(op, e))?;
        for item in items(&page) {
            out.extend(keep(item));
        }
    }
    Ok(out)
}
