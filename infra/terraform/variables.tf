variable "aws_region" {
  description = "AWS region for every resource."
  type        = string
}

variable "name" {
  description = "Name prefix for AWS resources (DB identifier, IAM roles, secret, ECR repositories)."
  type        = string
  default     = "floorplan"
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

# ---- queues -------------------------------------------------------------------------------------

variable "sqs_queue_prefix" {
  description = "FLOORPLAN_SQS_QUEUE_PREFIX: queues are <prefix>-render-2d and <prefix>-render-3d, each with a -dlq."
  type        = string
  default     = "floorplan"
}

variable "max_receive_count" {
  description = "Receives of one message before SQS moves it to the DLQ (keep equal to FLOORPLAN_QUEUE_MAX_RECEIVES)."
  type        = number
  default     = 10
}

variable "queue_visibility_timeout_s" {
  description = "Queue default visibility timeout (as `floorplan migrate` would create it); workers set their own on receive and extend it by heartbeat."
  type        = number
  default     = 30
}

# ---- results bucket -----------------------------------------------------------------------------

variable "s3_bucket_name" {
  description = "Globally unique name of the results bucket (FLOORPLAN_S3_BUCKET)."
  type        = string
}

variable "s3_prefix" {
  description = "Key prefix of results in the bucket (FLOORPLAN_S3_PREFIX); must end with '/'."
  type        = string
  default     = "renders/"

  validation {
    condition     = can(regex("^[^/].*/$", var.s3_prefix))
    error_message = "s3_prefix must be non-empty, not start with '/' and end with '/'."
  }
}

variable "result_expiry_days" {
  description = "Results are deleted this many days after they were written."
  type        = number
  default     = 30
}

variable "s3_kms_key_arn" {
  description = "KMS key for SSE-KMS on the bucket; null uses SSE-S3 (AES256)."
  type        = string
  default     = null
}

# ---- database -----------------------------------------------------------------------------------

variable "vpc_id" {
  description = "VPC of the EKS cluster; the DB security group is created in it."
  type        = string
}

variable "db_subnet_ids" {
  description = "Private subnets (at least two AZs) for the DB subnet group."
  type        = list(string)
}

variable "db_client_security_group_ids" {
  description = "Security groups allowed to reach MySQL on 3306 (the EKS node or pod security groups)."
  type        = list(string)
}

variable "db_engine_version" {
  description = "MySQL engine version (major.minor lets RDS pick the latest patch)."
  type        = string
  default     = "8.0"
}

variable "db_instance_class" {
  type    = string
  default = "db.t4g.medium"
}

variable "db_allocated_storage_gb" {
  type    = number
  default = 50
}

variable "db_max_allocated_storage_gb" {
  description = "Storage autoscaling ceiling."
  type        = number
  default     = 500
}

variable "db_multi_az" {
  type    = bool
  default = true
}

variable "db_backup_retention_days" {
  type    = number
  default = 7
}

variable "db_deletion_protection" {
  type    = bool
  default = true
}

variable "db_name" {
  type    = string
  default = "floorplan"
}

variable "db_username" {
  type    = string
  default = "floorplan"
}

# ---- Kubernetes (IRSA) --------------------------------------------------------------------------

variable "eks_oidc_provider_arn" {
  description = "ARN of the EKS cluster's IAM OIDC provider (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)."
  type        = string
}

variable "k8s_namespace" {
  description = "Namespace of the floorplan workloads (infra/k8s uses 'floorplan')."
  type        = string
  default     = "floorplan"
}

variable "keda_operator_role_name" {
  description = "Name of the IAM role the KEDA operator runs as (IRSA); it gets sqs:GetQueueAttributes on the render queues."
  type        = string
}

variable "public_url" {
  description = "Public base URL of the API (FLOORPLAN_PUBLIC_URL), e.g. https://render.example.com."
  type        = string

  validation {
    condition     = can(regex("^https?://", var.public_url))
    error_message = "public_url must start with http:// or https://."
  }
}
