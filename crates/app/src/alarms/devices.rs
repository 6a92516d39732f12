//! The device registry: vendors (their platforms sign HTTP alarms), devices provisioned to
//! an elder's home and retired by the 民政 admin, their transitions and maintenance tasks, and
//! each street's escalation chain.

use crate::App;
use crate::care::{Paged, page_args, today};
use crate::error::{AppError, AppResult};
use crate::policy::{Capability, require};
use jiesu_domain::Role;
use jiesu_domain::alarms::Chain;
use jiesu_domain::alarms::device::{DeviceInput, VendorInput};
use jiesu_store::User;
use jiesu_store::alarms::{Device, DeviceQuery, Fault, Transition, Vendor};
use serde::Serialize;

/// A new vendor and its signing secret, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct NewVendor {
    pub vendor: Vendor,
    pub secret: String,
}

/// A vendor's signing secret: 24 random bytes, hex.
pub(crate) fn secret() -> AppResult<String> {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).map_err(AppError::internal)?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

pub async fn create_vendor(app: &App, user: &User, v: VendorInput) -> AppResult<NewVendor> {
    require(user, Capability::ManageDevices)?;
    let v = v.normalized()?;
    let secret = secret()?;
    app.store.create_vendor(&v, &secret, app.now()).await?;
    crate::accounts::audit(app, user, "create_vendor", "vendor", v.code.clone(), None).await?;
    let vendor = app
        .store
        .vendors()
        .await?
        .into_iter()
        .find(|x| x.code == v.code)
        .ok_or_else(AppError::not_found)?;
    Ok(NewVendor { vendor, secret })
}

pub async fn vendors(app: &App, user: &User) -> AppResult<Vec<Vendor>> {
    require(user, Capability::ViewDevices)?;
    Ok(app.store.vendors().await?)
}

/// Provisions a device to an elder's home (the street and community are the elder's).
pub async fn register(app: &App, user: &User, d: DeviceInput) -> AppResult<Device> {
    require(user, Capability::ManageDevices)?;
    let d = d.normalized(today(app))?;
    if !app
        .store
        .vendors()
        .await?
        .iter()
        .any(|v| v.code == d.vendor && v.active)
    {
        return Err(AppError::invalid(
            "vendor",
            "unknown_vendor",
            "no active vendor with this code",
        ));
    }
    let elder = crate::care::registry::load(app, d.elder_id).await?;
    app.store
        .create_device(&d, &elder.data.street, &elder.data.community, app.now())
        .await?;
    let installed = d
        .installed_on
        .to_zoned_datetime(app.dir.calendar.time_zone().clone())
        .map(|z| z.timestamp())
        .unwrap_or(app.now());
    app.alarms
        .live
        .add(&d.device_id, d.heartbeat_secs, installed);
    app.alarms.cache.forget_device(&d.device_id);
    crate::accounts::audit(
        app,
        user,
        "register_device",
        "device",
        d.device_id.clone(),
        None,
    )
    .await?;
    app.store
        .device(&d.device_id)
        .await?
        .ok_or_else(AppError::not_found)
}

pub async fn retire(app: &App, user: &User, device_id: &str) -> AppResult<()> {
    require(user, Capability::ManageDevices)?;
    if !app.store.retire_device(device_id, app.now()).await? {
        return Err(AppError::not_found());
    }
    app.alarms.live.remove(device_id);
    app.alarms.cache.forget_device(device_id);
    crate::accounts::audit(
        app,
        user,
        "retire_device",
        "device",
        device_id.to_string(),
        None,
    )
    .await?;
    Ok(())
}

/// A care manager sees their street's devices only.
fn scoped_street(user: &User, asked: Option<String>) -> Option<String> {
    if user.role == Role::CareManager {
        user.unit_code.clone()
    } else {
        asked
    }
}

pub async fn list(app: &App, user: &User, mut q: DeviceQuery) -> AppResult<Paged<Device>> {
    require(user, Capability::ViewDevices)?;
    let (limit, offset) = page_args(Some(q.limit).filter(|l| *l > 0), Some(q.offset))?;
    q.limit = limit;
    q.offset = offset;
    q.street = scoped_street(user, q.street);
    let (items, total) = app.store.devices(&q).await?;
    Ok(Paged {
        items,
        total,
        limit,
        offset,
    })
}

/// One device: the record, its liveness as this server sees it, transitions and faults.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceDetail {
    pub device: Device,
    pub live: Option<super::liveness::LiveView>,
    pub transitions: Vec<Transition>,
    pub faults: Vec<Fault>,
}

pub async fn get(app: &App, user: &User, device_id: &str) -> AppResult<DeviceDetail> {
    require(user, Capability::ViewDevices)?;
    let device = app
        .store
        .device(device_id)
        .await?
        .filter(|d| user.role != Role::CareManager || user.unit_code.as_deref() == Some(&d.street))
        .ok_or_else(AppError::not_found)?;
    let faults = app
        .store
        .faults(Some(&device.street), false, 200)
        .await?
        .into_iter()
        .filter(|f| f.device_id == device.data.device_id)
        .collect();
    Ok(DeviceDetail {
        live: app.alarms.live.view(device_id),
        transitions: app.store.transitions(device_id, 50).await?,
        faults,
        device,
    })
}

/// Maintenance tasks (open only unless `all`), a care manager's of their street.
pub async fn faults(
    app: &App,
    user: &User,
    street: Option<String>,
    all: bool,
) -> AppResult<Vec<Fault>> {
    require(user, Capability::ViewDevices)?;
    let street = scoped_street(user, street);
    Ok(app.store.faults(street.as_deref(), !all, 500).await?)
}

/// Sets a street's escalation chain (new alarms take it; those in flight keep theirs).
pub async fn save_chain(app: &App, user: &User, street: &str, chain: &Chain) -> AppResult<()> {
    require(user, Capability::ManageDevices)?;
    if app.dir.street(street).is_none() {
        return Err(AppError::invalid(
            "street",
            "unknown_street",
            "no such street",
        ));
    }
    chain.check()?;
    app.store
        .save_chain(street, chain, &user.username, app.now())
        .await?;
    app.alarms.cache.forget_chain(street);
    crate::accounts::audit(
        app,
        user,
        "save_alarm_chain",
        "street",
        street.to_string(),
        None,
    )
    .await?;
    Ok(())
}

/// Every street's chain, the default where none is set.
pub async fn chains(app: &App, user: &User) -> AppResult<Vec<(String, Chain)>> {
    require(user, Capability::ViewDevices)?;
    let set: std::collections::HashMap<_, _> = app.store.chains().await?.into_iter().collect();
    Ok(app
        .dir
        .world
        .streets
        .iter()
        .map(|s| {
            (
                s.code.clone(),
                set.get(&s.code).cloned().unwrap_or_default(),
            )
        })
        .collect())
}
