//! Read-only views of the world: regions, units, the category tree.

use crate::AppState;
use crate::auth::CurrentUser;
use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

pub async fn regions(State(app): State<AppState>, _u: CurrentUser) -> Json<Value> {
    let w = &app.dir.world;
    let streets: Vec<Value> = w
        .streets
        .iter()
        .map(|s| {
            let communities: Vec<Value> = w
                .communities
                .iter()
                .filter(|c| c.street_code == s.code)
                .map(|c| json!({"code": c.code, "name": c.name}))
                .collect();
            json!({"code": s.code, "name": s.name, "population": s.population, "communities": communities})
        })
        .collect();
    Json(json!({
        "district": {"code": w.district.code, "name": w.district.name, "population": w.district.population},
        "streets": streets,
    }))
}

pub async fn units(State(app): State<AppState>, _u: CurrentUser) -> Json<Value> {
    Json(json!({ "units": app.dir.world.units }))
}

pub async fn categories(State(app): State<AppState>, _u: CurrentUser) -> Json<Value> {
    let cats: Vec<Value> = app
        .dir
        .world
        .categories
        .iter()
        .map(|c| {
            json!({
                "code": c.code, "name": c.name, "parent": c.parent,
                "leaf": app.dir.is_leaf_category(&c.code),
                "responsible": c.responsible, "sla_class": c.sla_class, "keywords": c.keywords,
            })
        })
        .collect();
    Json(json!({ "categories": cats, "sla_classes": app.dir.world.sla.classes }))
}
