//! Object management on the command line (spec §3.6): `rsm info`, `rsm attr`,
//! `rsm enum`, and `rsm access` on the computer and pools.

use crate::cli::{AttrCmd, InfoCmd, ObjectTypeArg, View};
use crate::render::{done, operator_request_json, pool_json, request_json, rows, side_json, table};
use crate::{out, Failure, Outcome};
use rsm::*;
use serde_json::{json, Value};

/// Any object named on the command line.
async fn object(engine: &Engine, text: &str) -> Result<ObjectRef, Failure> {
    let text = text.to_string();
    Ok(engine.query(move |s| object_reference(s, &text)).await??)
}

/// What people call an object: the name set on it (media, sides and
/// logical media may be given one), else its own.
fn display_name(s: &State, object: ObjectRef) -> String {
    if let Some(name) = s.object_names.get(&object) {
        return name.clone();
    }
    let barcode = |m: &MediaId| s.media.get(m).map(|m| m.barcode.clone()).unwrap_or_default();
    match object {
        ObjectRef::Library(id) => s.libraries.get(&id).map(|l| l.name.clone()).unwrap_or_default(),
        ObjectRef::Drive(id) => s.drives.get(&id).map(|d| d.name.clone()).unwrap_or_default(),
        ObjectRef::Slot(id) => s.slots.get(&id).map(|x| x.name.clone()).unwrap_or_default(),
        ObjectRef::Port(id) => s.ports.get(&id).map(|p| p.name.clone()).unwrap_or_default(),
        ObjectRef::Media(id) => barcode(&id),
        ObjectRef::Pool(id) => s.pool_path(id),
        ObjectRef::Side(id) => s.side(id).map(|(m, x)| format!("{} side {}", m.barcode, x.number)).unwrap_or_default(),
        ObjectRef::LogicalMedia(id) => {
            s.logical_medium(id).map(|(m, x)| format!("on {} side {}", m.barcode, x.number)).unwrap_or_default()
        }
        ObjectRef::MediaType(id) => media_type(id).map(|t| t.name.to_string()).unwrap_or_default(),
        ObjectRef::Request(id) => {
            s.requests.get(&id).map(|r| format!("{} {}", r.kind.name(), barcode(&r.media))).unwrap_or_default()
        }
        ObjectRef::OperatorRequest(id) => s.operator_requests.get(&id).map(|r| r.text.clone()).unwrap_or_default(),
        ObjectRef::Computer => "computer".into(),
    }
}

/// The object's row of its view, as `rsm show` prints it.
fn details(s: &State, object: ObjectRef) -> Value {
    let row_of = |view: View, key: &str, value: String| {
        rows(s, view, None).into_iter().find(|r| r[key].as_str() == Some(value.as_str())).unwrap_or(Value::Null)
    };
    match object {
        ObjectRef::Library(id) => row_of(View::Libraries, "id", id.to_string()),
        ObjectRef::Drive(_) => row_of(View::Drives, "name", display_name(s, object)),
        ObjectRef::Slot(_) => row_of(View::Slots, "name", display_name(s, object)),
        ObjectRef::Port(_) => row_of(View::Ports, "name", display_name(s, object)),
        ObjectRef::Media(id) => row_of(View::Media, "id", id.to_string()),
        ObjectRef::Pool(id) => s.pools.get(&id).map_or(Value::Null, |p| pool_json(s, p)),
        ObjectRef::Side(id) => s.side(id).map_or(Value::Null, |(m, x)| side_json(s, m, x)),
        ObjectRef::LogicalMedia(id) => s.logical_medium(id).map_or(Value::Null, |(m, x)| side_json(s, m, x)),
        ObjectRef::MediaType(_) => row_of(View::MediaTypes, "name", display_name(s, object)),
        ObjectRef::Request(id) => s.requests.get(&id).map_or(Value::Null, |r| request_json(s, r)),
        ObjectRef::OperatorRequest(id) => {
            s.operator_requests.get(&id).map_or(Value::Null, |r| operator_request_json(s, r))
        }
        ObjectRef::Computer => json!({
            "libraries": s.libraries.len(), "media": s.media.len(), "pools": s.pools.len(),
            "lib_request_purge_time": s.computer.lib_request_purge_s, "lib_request_flags": s.computer.lib_request_flags,
            "op_request_purge_time": s.computer.op_request_purge_s, "op_request_flags": s.computer.op_request_flags,
            "media_pool_policy": s.computer.media_pool_policy,
            "access": s.computer_access.iter().map(|(p, m)| (p.clone(), Value::from(m.names()))).collect::<serde_json::Map<_, _>>(),
        }),
    }
}

/// `rsm info get|set`.
pub async fn info(engine: &Engine, user: &str, command: &InfoCmd, json: bool) -> Outcome {
    let session = engine.session_for(user).await?;
    match command {
        InfoCmd::Get { object: text } => {
            let target = object(engine, text).await?;
            let (policy, principal) = (engine.policy().clone(), user.to_string());
            let document = engine
                .query(move |s| -> Result<Value, NtmsError> {
                    require_over(s, &policy, &principal, target, AccessMask::USE, "read its information")?;
                    let attributes = list_attributes(s, &policy, &principal, target)?;
                    Ok(json!({
                        "type": target.object_type().name(), "ntms_type": target.object_type().ntms_value(),
                        "id": object_id(target), "name": display_name(s, target),
                        "description": s.descriptions.get(&target),
                        "attributes": attributes.iter().map(|(n, size)| json!({"name": n, "size": size})).collect::<Vec<_>>(),
                        "details": details(s, target),
                    }))
                })
                .await??;
            if json {
                return out::json(&document);
            }
            let text = |k: &str| document[k].as_str().map(out::escape).unwrap_or_default().into_owned();
            out::line(&format!("{} {} ({})", text("type"), text("name"), text("id")))?;
            if let Some(description) = document["description"].as_str() {
                out::line(&format!("description: {}", out::escape(description)))?;
            }
            for a in document["attributes"].as_array().into_iter().flatten() {
                out::line(&format!(
                    "attribute {} ({} bytes)",
                    a["name"].as_str().map(out::escape).unwrap_or_default(),
                    a["size"]
                ))?;
            }
            if let Some(fields) = document["details"].as_object() {
                for (key, value) in fields {
                    let shown = match value {
                        Value::String(s) => out::escape(s).into_owned(),
                        other => out::escape(&other.to_string()).into_owned(),
                    };
                    out::line(&format!("{key}: {shown}"))?;
                }
            }
            Ok(())
        }
        InfoCmd::Set { object: text, fields } => {
            let target = object(engine, text).await?;
            let mut description = None;
            let mut information = Vec::new();
            let mut policy: Option<(Option<bool>, Option<bool>, Option<u32>)> = None;
            let mut seen = std::collections::BTreeSet::new();
            for field in fields {
                let (key, value) = field
                    .split_once('=')
                    .ok_or_else(|| Failure::Usage(format!("{field:?}: fields are FIELD=VALUE")))?;
                if !seen.insert(key) {
                    return Err(Failure::Usage(format!("{key} is given twice")));
                }
                let number = |v: &str| {
                    let parsed = match v.strip_prefix("0x") {
                        Some(hex) => u32::from_str_radix(hex, 16),
                        None => v.parse::<u32>(),
                    };
                    parsed.map_err(|_| Failure::Usage(format!("{key} is a number (decimal or 0x hex), not {v:?}")))
                };
                let flag = |v: &str| {
                    v.parse::<bool>().map_err(|_| Failure::Usage(format!("{key} is true or false, not {v:?}")))
                };
                let entry = policy.get_or_insert((None, None, None));
                match key {
                    "description" => description = Some(value.to_string()),
                    "name" => information.push(InfoField::Name(value.to_string())),
                    "defer_dismount_delay" => information.push(InfoField::DeferDismountDelay(match value {
                        "" | "library" => None,
                        seconds => Some(seconds.parse().map_err(|_| {
                            Failure::Usage(format!("defer_dismount_delay is seconds (or `library`), not {value:?}"))
                        })?),
                    })),
                    "lib_request_purge_time" => information.push(InfoField::LibRequestPurgeTime(number(value)?)),
                    "lib_request_flags" => information.push(InfoField::LibRequestFlags(number(value)?)),
                    "op_request_purge_time" => information.push(InfoField::OpRequestPurgeTime(number(value)?)),
                    "op_request_flags" => information.push(InfoField::OpRequestFlags(number(value)?)),
                    "media_pool_policy" => information.push(InfoField::MediaPoolPolicy(number(value)?)),
                    "door_max_open_secs" => information.push(InfoField::DoorMaxOpenSecs(value.parse().map_err(|_| {
                        Failure::Usage(format!("door_max_open_secs is seconds, 0 to 65535, not {value:?}"))
                    })?)),
                    "inventory_method" => information.push(InfoField::InventoryMethod(match value {
                        "fast" => InventoryMethod::Fast,
                        "omid" => InventoryMethod::Omid,
                        _ => return Err(Failure::Usage(format!("inventory_method is fast or omid, not {value:?}"))),
                    })),
                    "media_type" => information.push(InfoField::PoolMediaType(
                        media_type_named(value)
                            .ok_or_else(|| Failure::Usage(format!("{value} is not a media type rsm knows")))?
                            .id,
                    )),
                    "from_scratch" => entry.0 = Some(flag(value)?),
                    "to_scratch" => entry.1 = Some(flag(value)?),
                    "max_allocates" => {
                        entry.2 = Some(
                            value
                                .parse()
                                .map_err(|_| Failure::Usage(format!("max_allocates is a count, not {value:?}")))?,
                        )
                    }
                    other => {
                        return Err(Failure::Usage(format!(
                            "{other} is not a writable field (description; name on a library, pool, medium, side or \
                             logical medium; defer_dismount_delay on a drive; door_max_open_secs and inventory_method on a library; on a pool media_type, from_scratch, \
                             to_scratch, max_allocates; on the computer lib_request_purge_time, lib_request_flags, \
                             op_request_purge_time, op_request_flags, media_pool_policy)"
                        )))
                    }
                }
            }
            if policy.is_some_and(|p| p == (None, None, None)) {
                policy = None;
            }
            if let Some((from, to, max)) = policy {
                let ObjectRef::Pool(pool) = target else {
                    return Err(Failure::Usage("from_scratch, to_scratch and max_allocates are a pool's".into()));
                };
                let current = engine
                    .query(move |s| s.pools.get(&pool).map(|p| (p.from_scratch, p.to_scratch, p.max_allocates)))
                    .await?
                    .ok_or_else(|| NtmsError::new(ErrorCode::ObjectNotFound, "the pool is gone"))?;
                let (f, t, m) = (from.unwrap_or(current.0), to.unwrap_or(current.1), max.unwrap_or(current.2));
                session.set_pool_policy(pool, f, t, m).await?;
            }
            for field in information {
                session.set_object_information(target, field).await?;
            }
            if let Some(description) = description {
                session.set_description(target, &description).await?;
            }
            done(json, &format!("{text} updated"))
        }
    }
}

/// `rsm attr get|set|list`.
pub async fn attr(engine: &Engine, user: &str, command: &AttrCmd, json: bool) -> Outcome {
    let session = engine.session_for(user).await?;
    match command {
        AttrCmd::Get { object: text, name } => {
            let target = object(engine, text).await?;
            let value = session.attribute(target, name).await?;
            if json {
                let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
                let text = std::str::from_utf8(&value).ok();
                return out::json(&json!({"name": name, "size": value.len(), "hex": hex, "text": text}));
            }
            out::line(&out::escape(&String::from_utf8_lossy(&value)))
        }
        AttrCmd::Set { object: text, name, value, file } => {
            let target = object(engine, text).await?;
            let bytes = match (value, file) {
                (Some(v), _) => v.as_bytes().to_vec(),
                (None, Some(path)) => read_bounded(path)?,
                (None, None) => return Err(Failure::Usage("--value or --file is required".into())),
            };
            let removed = bytes.is_empty();
            session.set_attribute(target, name, bytes).await?;
            done(json, &format!("{name} {} on {text}", if removed { "removed" } else { "set" }))
        }
        AttrCmd::List { object: text } => {
            let target = object(engine, text).await?;
            let list = session.attributes(target).await?;
            let rows: Vec<Value> = list.iter().map(|(n, size)| json!({"name": n, "size": size})).collect();
            if json {
                return out::json(&Value::from(rows));
            }
            out::text(&table(&["name", "size"], &rows))
        }
    }
}

/// A file's bytes, read no further than an attribute may hold.
fn read_bounded(path: &std::path::Path) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let cannot = |e: std::io::Error| Failure::Usage(format!("cannot read {}: {e}", path.display()));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(cannot)?
        .take(ATTRIBUTE_LEN_MAX as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > ATTRIBUTE_LEN_MAX {
        return Err(Failure::Rejected(NtmsError::new(
            ErrorCode::NoData,
            format!("{} holds more than {ATTRIBUTE_LEN_MAX} bytes: an attribute holds at most that", path.display()),
        )));
    }
    Ok(bytes)
}

/// `rsm enum TYPE [--in CONTAINER]`.
pub async fn enumerate(
    engine: &Engine,
    user: &str,
    kind: ObjectTypeArg,
    container: Option<&str>,
    root_pool: bool,
    json: bool,
) -> Outcome {
    let kind = match kind {
        ObjectTypeArg::Computer => ObjectType::Computer,
        ObjectTypeArg::Library => ObjectType::Library,
        ObjectTypeArg::Drive => ObjectType::Drive,
        ObjectTypeArg::Slot => ObjectType::StorageSlot,
        ObjectTypeArg::Port => ObjectType::IePort,
        ObjectTypeArg::Request => ObjectType::LibraryRequest,
        ObjectTypeArg::Media => ObjectType::PhysicalMedia,
        ObjectTypeArg::Side => ObjectType::Partition,
        ObjectTypeArg::Lmid => ObjectType::LogicalMedia,
        ObjectTypeArg::Pool => ObjectType::MediaPool,
        ObjectTypeArg::MediaType => ObjectType::MediaType,
        ObjectTypeArg::OperatorRequest => ObjectType::OperatorRequest,
    };
    let container = match container {
        Some(text) => Some(object(engine, text).await?),
        None => None,
    };
    let session = engine.session_for(user).await?;
    let found = session.enumerate(kind, container, root_pool).await?;
    let rows: Vec<Value> = engine
        .query(move |s| {
            found
                .iter()
                .map(|o| json!({"type": o.object_type().name(), "id": object_id(*o), "name": display_name(s, *o)}))
                .collect()
        })
        .await?;
    if json {
        return out::json(&Value::from(rows));
    }
    out::text(&table(&["type", "name", "id"], &rows))
}

/// `rsm access grant|revoke USER RIGHT --pool P | --computer`: then the access list.
pub async fn access(
    session: &Session,
    target: ObjectRef,
    principal: &str,
    rights: AccessMask,
    grant: bool,
    json: bool,
) -> Outcome {
    session.set_object_access(target, principal, rights, grant).await?;
    let list = session.object_security(target).await?;
    let rows: Vec<Value> = list.iter().map(|(p, m)| json!({"principal": p, "rights": m.names()})).collect();
    if json {
        return out::json(&Value::from(rows));
    }
    out::text(&table(&["principal", "rights"], &rows))
}
