//! Granting and revoking roles: `POST /roles`, `DELETE /roles/{id}`, and the CLI's `grant`.
use actix_web::{HttpRequest, HttpResponse, delete, post, web};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, EntityTrait, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Entry};
use crate::auth::phone::Phone;
use crate::auth::scope::{RoleName, Scope, covers, scope_region};
use crate::auth::{AuthUser, service::find_or_create_user};
use crate::clock::now_ms;
use crate::entity::{roles, users};
use crate::error::{AppError, AppResult, ErrorBody, on_unique};
use crate::extract::Json;
use crate::state::AppState;

/// Registers the role routes.
pub fn config(cfg: &mut impl crate::routing::register::Routes) {
    cfg.service(grant_role).service(revoke_role);
}

/// `POST /roles`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantRequest {
    /// Phone of the person (an account is created if they never logged in).
    #[schema(example = "13800000000")]
    pub phone: String,
    /// admin, org_admin, centre_admin or party_admin.
    #[schema(example = "admin")]
    pub role: String,
    /// `region:<id>` for admin, `org:<id>`, `centre:<id>`, `party_org:<id>` for the others.
    #[schema(example = "region:2")]
    pub scope: String,
}

/// A granted role.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    /// Role id (for `DELETE /roles/{id}`).
    pub id: i64,
    /// The person.
    pub user_id: i64,
    /// The role.
    pub role: String,
    /// The scope.
    pub scope: String,
}

/// Checks the role and scope make a valid pair.
pub fn parse_grant(role: &str, scope: &str) -> AppResult<(RoleName, Scope)> {
    let role = RoleName::parse(role).ok_or_else(|| AppError::rule("invalid_role", "角色不正确"))?;
    let scope = Scope::parse(scope)
        .ok_or_else(|| AppError::rule("invalid_scope", "范围格式应为 region:<编号> 等"))?;
    if scope.kind != role.scope_kind() {
        return Err(AppError::rule(
            "invalid_scope",
            "该角色不能授予在这个范围上",
        ));
    }
    Ok((role, scope))
}

/// Inserts the role (409 `already_granted` when the person has it).
pub async fn insert_role<C: ConnectionTrait>(
    db: &C,
    user_id: i64,
    role: RoleName,
    scope: Scope,
    granted_by: Option<i64>,
) -> AppResult<roles::Model> {
    let row = roles::ActiveModel {
        user_id: Set(user_id),
        role: Set(role.as_str().to_owned()),
        scope: Set(scope.to_string()),
        granted_by: Set(granted_by),
        created_at: Set(now_ms()),
        ..Default::default()
    };
    roles::Entity::insert(row)
        .exec_with_returning(db)
        .await
        .map_err(|e| on_unique(e, "already_granted", "此人已有这个角色"))
}

/// Grants a role; the caller must be an admin whose region covers the scope.
#[utoipa::path(
    tag = "people",
    security(("bearer" = [])),
    request_body = GrantRequest,
    responses(
        (status = 201, body = Grant),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Not an admin over that scope", body = ErrorBody),
        (status = 409, description = "already_granted", body = ErrorBody),
        (status = 422, description = "invalid_phone, invalid_role, invalid_scope", body = ErrorBody),
        (status = 415, description = "The body was not sent as application/json", body = ErrorBody),
    )
)]
#[post("/roles")]
async fn grant_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    body: Json<GrantRequest>,
) -> AppResult<HttpResponse> {
    let phone = Phone::parse(&body.phone)?;
    let (role, scope) = parse_grant(&body.role, &body.scope)?;
    let region = scope_region(&state.db, scope)
        .await?
        .ok_or_else(|| AppError::rule("invalid_scope", "该范围不存在"))?;
    if !covers(&me.roles, &region) {
        return Err(AppError::Forbidden(
            "forbidden",
            "只有该范围的管理员可以授权",
        ));
    }
    let by = GrantedBy {
        actor: Some(me.id()),
        region_id: Some(region.id),
        ip: crate::audit::client_ip_of(&req, &state),
        via_cli: false,
    };
    let (grant, _) = grant(&state.db, phone, role, scope, by).await?;
    Ok(HttpResponse::Created().json(Grant {
        id: grant.id,
        user_id: grant.user_id,
        role: grant.role,
        scope: grant.scope,
    }))
}

/// Revokes a role; others' roles outside the caller's regions answer 404.
#[utoipa::path(
    tag = "people",
    security(("bearer" = [])),
    params(("id" = i64, Path, description = "Role id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody))
)]
#[delete("/roles/{id}")]
async fn revoke_role(
    state: web::Data<AppState>,
    req: HttpRequest,
    me: AuthUser,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let grant = roles::Entity::find_by_id(id.into_inner())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let scope = Scope::parse(&grant.scope).ok_or(AppError::NotFound)?;
    let region = match scope_region(&state.db, scope).await {
        Ok(Some(r)) => r,
        _ => return Err(AppError::NotFound),
    };
    if !covers(&me.roles, &region) {
        return Err(AppError::NotFound);
    }
    let ip = crate::audit::client_ip_of(&req, &state);
    revoke(&state.db, grant, region.id, me.id(), ip).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who grants a role, for its audit entry.
pub struct GrantedBy {
    /// The granting admin; `None` from the command line.
    pub actor: Option<i64>,
    /// The region of the scope (the audit log's region).
    pub region_id: Option<i64>,
    /// The admin's address.
    pub ip: Option<String>,
    /// Whether `qunjia grant` is granting (noted in the entry).
    pub via_cli: bool,
}

/// Grants a role to the person with this phone (an account is made if they never
/// logged in); the person, the role and the audit entry commit together.
pub async fn grant(
    db: &DatabaseConnection,
    phone: Phone,
    role: RoleName,
    scope: Scope,
    by: GrantedBy,
) -> AppResult<(roles::Model, users::Model)> {
    db.transaction::<_, (roles::Model, users::Model), AppError>(|txn| {
        Box::pin(async move {
            let (user, _) = find_or_create_user(txn, &phone).await?;
            let g = insert_role(txn, user.id, role, scope, by.actor).await?;
            let mut detail = serde_json::json!({ "role": g.role, "scope": g.scope });
            if by.via_cli {
                detail["via"] = "cli".into();
            }
            audit::record(
                txn,
                Entry {
                    actor: by.actor,
                    action: "role.grant",
                    target: format!("user:{}", user.id),
                    region_id: by.region_id,
                    ip: by.ip,
                    detail: Some(detail),
                },
            )
            .await?;
            Ok((g, user))
        })
    })
    .await
    .map_err(Into::into)
}

/// Revokes a role; the deletion and its audit entry commit together.
pub async fn revoke(
    db: &DatabaseConnection,
    grant: roles::Model,
    region_id: i64,
    actor: i64,
    ip: Option<String>,
) -> AppResult<()> {
    db.transaction::<_, (), AppError>(|txn| {
        Box::pin(async move {
            roles::Entity::delete_by_id(grant.id).exec(txn).await?;
            audit::record(
                txn,
                Entry {
                    actor: Some(actor),
                    action: "role.revoke",
                    target: format!("user:{}", grant.user_id),
                    region_id: Some(region_id),
                    ip,
                    detail: Some(serde_json::json!({ "role": grant.role, "scope": grant.scope })),
                },
            )
            .await
        })
    })
    .await
    .map_err(Into::into)
}
