//! How the domain's errors answer over HTTP: each maps to one [`ApiError`].

use crate::http::ApiError;
use crate::jobs::JobError;
use crate::sandbox::SandboxError;
use crate::store::StoreError;

impl From<JobError> for ApiError {
    fn from(error: JobError) -> Self {
        match error {
            JobError::Invalid { field, message } => Self::BadRequest {
                message: format!("{field}: {message}"),
                field: Some(field),
            },
            JobError::BadQuery { field, message } => Self::bad_field(field, message),
            JobError::NotFound { job_id } => Self::NotFound {
                what: format!("job {job_id}"),
            },
            error @ (JobError::AlreadyEnded { .. }
            | JobError::Ending { .. }
            | JobError::Review { .. }
            | JobError::NotInteractive { .. }
            | JobError::NoSession { .. }) => Self::Conflict {
                message: error.to_string(),
            },
            JobError::Unverified { message } => Self::Unavailable { message },
            JobError::Sandbox(error) => sandbox_error(error),
            JobError::Store(error) => Self::internal(error),
            JobError::Random(error) => Self::internal(error),
        }
    }
}

fn sandbox_error(error: SandboxError) -> ApiError {
    let message = error.to_string();
    match error {
        SandboxError::NotRunning { .. }
        | SandboxError::NotStopped { .. }
        | SandboxError::EndedDuringExec { .. }
        | SandboxError::EndedDuringTransfer
        | SandboxError::HoldsSecret { .. } => ApiError::Conflict { message },
        SandboxError::Busy(_) => ApiError::TooManyRequests { message },
        SandboxError::NoAnswer(_) => ApiError::Unavailable { message },
        SandboxError::TooLarge { field, message } => ApiError::TooLarge { message, field },
        SandboxError::BadPath { .. } => ApiError::bad_field("path", message),
        SandboxError::NoSuchPath { .. } => ApiError::NotFound {
            what: message.clone(),
        },
        SandboxError::Failed { .. } => ApiError::BadGateway { message },
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(error)
    }
}
