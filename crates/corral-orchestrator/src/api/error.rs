//! How the domain's errors answer over HTTP: each maps to one [`ApiError`].

use crate::http::ApiError;
use crate::jobs::JobError;
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
            JobError::Store(error) => Self::internal(error),
            JobError::Random(error) => Self::internal(error),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::internal(error)
    }
}
