//! `GET /v1/openapi.json`: the user API as an OpenAPI 3.1 document,
//! generated from the handlers' attributes and the wire types, so clients
//! can be generated from it. A test checks that every route of the route
//! table is in it.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{events, jobs, metrics, review, sandboxes, secrets, verify};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "corral", description = "Run AI-agent jobs in locked-down Docker containers."),
    paths(
        jobs::health, jobs::create, jobs::list, jobs::show, jobs::cancel, jobs::end, jobs::prompt,
        events::list, events::stream,
        review::diff, review::apply, review::discard,
        secrets::list, secrets::set, secrets::remove,
        metrics::metrics, verify::run, verify::last, openapi,
        sandboxes::create, sandboxes::list, sandboxes::show, sandboxes::delete, sandboxes::exec,
        sandboxes::put_file, sandboxes::get_file, sandboxes::list_files, sandboxes::events,
        sandboxes::events_stream, sandboxes::pause, sandboxes::resume, sandboxes::stop,
        sandboxes::start, sandboxes::fork,
    ),
    components(schemas(
        corral_proto::event::EventData,
        corral_proto::event::StatusData,
        corral_proto::event::MessageData,
        corral_proto::event::ToolCallData,
        corral_proto::event::ToolResultData,
        corral_proto::event::OutputData,
        corral_proto::event::LlmUsageData,
        corral_proto::event::NoticeData,
        corral_proto::event::NetworkData,
        corral_proto::event::ExecStartedData,
        corral_proto::event::ExecEndedData,
    )),
    modifiers(&BearerToken),
    security(("token" = [])),
    tags(
        (name = "jobs", description = "Create, list, follow up and cancel jobs"),
        (name = "events", description = "A job's event stream"),
        (name = "review", description = "Branch-mode jobs: diff, apply, discard"),
        (name = "sandboxes", description = "Long-lived sandboxes: exec, files, events"),
        (name = "secrets", description = "Sealed secrets granted to jobs; values are write-only"),
        (name = "server", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// Every route but health takes the API token as a bearer token.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// `GET /v1/openapi.json`.
#[utoipa::path(get, path = "/v1/openapi.json", tag = "server", security(()),
    responses((status = 200, description = "This document", body = Object)))]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (path, method) pairs the route table in `api.rs` declares
    /// (the web UI's files aside), read from its source so a new route
    /// cannot be missed.
    fn declared_routes() -> Vec<(String, String)> {
        let table = include_str!("../api.rs");
        let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)""#).expect("pattern");
        let method = regex::Regex::new(r"\b(get|post|put|delete)\(").expect("pattern");
        let starts: Vec<(usize, String)> = route
            .captures_iter(table)
            .filter_map(|found| Some((found.get(0)?.start(), found[1].to_owned())))
            .collect();
        let mut routes = Vec::new();
        for (index, (start, path)) in starts.iter().enumerate() {
            if path == "/" || path.starts_with("/ui/") {
                continue;
            }
            let end = starts.get(index + 1).map_or_else(
                || {
                    table[*start..]
                        .find(".route_layer")
                        .map_or(table.len(), |at| start + at)
                },
                |next| next.0,
            );
            for found in method.captures_iter(&table[*start..end]) {
                routes.push((path.clone(), found[1].to_owned()));
            }
        }
        routes
    }

    #[test]
    fn every_route_is_documented_and_the_document_is_openapi_3_1() {
        let document = serde_json::to_value(ApiDoc::openapi()).expect("document serializes");
        assert_eq!(document["openapi"], "3.1.0");
        let paths = document["paths"].as_object().expect("paths");
        let declared = declared_routes();
        assert!(declared.len() >= 16, "{declared:?}");
        for (path, method) in &declared {
            assert!(
                paths
                    .get(path)
                    .is_some_and(|item| item.get(method).is_some()),
                "route {method} {path} is not in the OpenAPI document"
            );
        }
        for (path, item) in paths {
            for method in item.as_object().expect("path item").keys() {
                assert!(
                    declared.contains(&(path.clone(), method.clone())),
                    "{method} {path} is documented but not routed"
                );
            }
        }
        let schemas = document["components"]["schemas"]
            .as_object()
            .expect("schemas");
        for name in [
            "JobSpec",
            "Job",
            "Event",
            "ErrorBody",
            "LimitsSpec",
            "ClaudeSpec",
            "EventData",
            "StatusData",
            "OutputData",
            "NetworkData",
        ] {
            assert!(schemas.contains_key(name), "schema {name} is missing");
        }
        assert_eq!(
            document["paths"]["/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"]
                ["$ref"],
            "#/components/schemas/JobSpec"
        );
    }

    /// A generated client puts each parameter where the document says: a
    /// name in the path template is a path parameter, any other one is a
    /// query parameter (or a header, for `Last-Event-ID`).
    #[test]
    fn every_parameter_is_where_the_route_takes_it() {
        let document = serde_json::to_value(ApiDoc::openapi()).expect("document serializes");
        let mut checked = 0;
        for (path, item) in document["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("path item") {
                let Some(parameters) = operation["parameters"].as_array() else {
                    continue;
                };
                for parameter in parameters {
                    let name = parameter["name"].as_str().expect("a name");
                    let expected = if path.contains(&format!("{{{name}}}")) {
                        "path"
                    } else if name == "Last-Event-ID" {
                        "header"
                    } else {
                        "query"
                    };
                    assert_eq!(parameter["in"], expected, "{method} {path}: {name}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 30, "only {checked} parameters");
    }
}
