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

# ---- workers on ECS (Fargate), for running without Kubernetes: ecs-workers.tf -------------------

variable "ecs_workers" {
  description = "Run the render workers as ECS Fargate services, scaled by target tracking on BacklogPerInstance (instead of, or besides, the EKS Deployments)."
  type        = bool
  default     = false
}

variable "ecs_subnet_ids" {
  description = "Private subnets of the worker tasks (they reach RDS, SQS, S3 and CloudWatch)."
  type        = list(string)
  default     = []
}

variable "ecs_security_group_ids" {
  description = "Security groups of the worker tasks; one of them must be allowed into the database (db_client_security_group_ids)."
  type        = list(string)
  default     = []
}

variable "worker_image" {
  description = "The worker image (Dockerfile.worker), e.g. <registry>/floorplan-worker:<tag>."
  type        = string
  default     = ""
}

variable "ecs_worker_slots" {
  description = "Render slots per worker task (floorplan-worker run --concurrency), by queue; as api/k8s.py's POD_SLOTS."
  type        = map(number)
  default = {
    "render-2d" = 4
    "render-3d" = 2
  }
}

variable "ecs_worker_size" {
  description = "Fargate CPU units and memory (MiB) per worker task, by queue: slots x FLOORPLAN_RENDER_MEMORY_MB must fit."
  type        = map(object({ cpu = number, memory = number }))
  default = {
    "render-2d" = { cpu = 2048, memory = 6144 }
    "render-3d" = { cpu = 4096, memory = 8192 }
  }
}

variable "ecs_min_workers" {
  description = "Fewest worker tasks by queue. At least 1: with no task, nobody publishes the backlog (scale to zero is KEDA's)."
  type        = map(number)
  default = {
    "render-2d" = 1
    "render-3d" = 1
  }

  validation {
    condition     = alltrue([for n in values(var.ecs_min_workers) : n >= 1])
    error_message = "ecs_min_workers must be at least 1 per queue."
  }
}

variable "ecs_max_workers" {
  description = "Most worker tasks by queue."
  type        = map(number)
  default = {
    "render-2d" = 50
    "render-3d" = 50
  }
}

# The scaling rule's parameters: keep them equal to the settings (shared/settings.py, FLOORPLAN_SCALE_*,
# FLOORPLAN_DRAIN_S, FLOORPLAN_CLOUDWATCH_NAMESPACE); tests/test_infra_terraform.py checks the defaults.
variable "scale_backlog_per_worker" {
  description = "FLOORPLAN_SCALE_BACKLOG_PER_WORKER: renders of backlog per render slot, by queue."
  type        = map(number)
  default = {
    "render-2d" = 4
    "render-3d" = 2
  }
}

variable "scale_cooldown_s" {
  description = "FLOORPLAN_SCALE_COOLDOWN_S: how long the backlog stays low before scaling in."
  type        = number
  default     = 30
}

variable "drain_s" {
  description = "FLOORPLAN_DRAIN_S: on SIGTERM renders in hand may finish this long; the task's stopTimeout adds 5 s (Fargate allows 120 at most)."
  type        = number
  default     = 25
}

variable "cloudwatch_namespace" {
  description = "FLOORPLAN_CLOUDWATCH_NAMESPACE: where the workers put BacklogPerInstance."
  type        = string
  default     = "Floorplan"
}
