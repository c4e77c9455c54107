//! `AuthUser`: the one way a handler learns who is calling. It verifies the
//! access token, then loads the person and their roles, so a deleted account's
//! token stops working at once.
use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use sea_orm::{ConnectionTrait, FromQueryResult};

use crate::auth::jwt::TokenType;
use crate::db::stmt;
use crate::entity::{roles, users};
use crate::error::AppError;
use crate::state::AppState;

/// A caller with a valid access token and a live account.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The person.
    pub user: users::Model,
    /// Their roles.
    pub roles: Vec<roles::Model>,
}

impl AuthUser {
    /// The caller's id.
    pub fn id(&self) -> i64 {
        self.user.id
    }
}

fn unauthorized() -> AppError {
    AppError::Unauthorized("unauthorized", "请先登录")
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

async fn load(state: web::Data<AppState>, token: String) -> Result<AuthUser, AppError> {
    let claims = state
        .keys
        .verify(&token, TokenType::Access)
        .ok_or_else(unauthorized)?;
    let id = claims.user_id().ok_or_else(unauthorized)?;
    // The person and their roles in one statement: this runs on every request, before
    // the handler writes anything, so it reads from the readers.
    let rows = state
        .read
        .query_all_raw(stmt(
            state.read.get_database_backend(),
            "SELECT u.*, r.id AS r_id, r.user_id AS r_user_id, r.role AS r_role, \
             r.scope AS r_scope, r.granted_by AS r_granted_by, r.created_at AS r_created_at \
             FROM users u LEFT JOIN roles r ON r.user_id = u.id \
             WHERE u.id = ? AND u.deleted_at IS NULL ORDER BY r.id",
            vec![id.into()],
        ))
        .await?;
    let first = rows.first().ok_or_else(unauthorized)?;
    let user = users::Model::from_query_result(first, "")?;
    let roles = rows
        .iter()
        .map(|row| roles::Model::from_query_result_optional(row, "r_"))
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AuthUser { user, roles })
}

impl FromRequest for AuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal("state missing".into()))?;
            load(state, token.ok_or_else(unauthorized)?).await
        })
    }
}

/// A caller who may or may not be logged in; a token that is present but
/// invalid is still refused, so a broken client learns its session ended.
#[derive(Debug, Clone)]
pub struct MaybeAuthUser(pub Option<AuthUser>);

impl FromRequest for MaybeAuthUser {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| AppError::Internal("state missing".into()))?;
            match token {
                None => Ok(MaybeAuthUser(None)),
                Some(t) => load(state, t).await.map(|u| MaybeAuthUser(Some(u))),
            }
        })
    }
}
