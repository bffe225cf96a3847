# AWS resources of the floorplan render service: render queues (+ DLQs), results bucket, MySQL (RDS),
# the app's secrets, and IAM roles for the api / worker / migrate service accounts (IRSA).
# The EKS cluster, its OIDC provider, KEDA and the VPC are prerequisites passed in as variables.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 7.0"
    }
    random = {
      source  = "hashicorp/random"
      version = ">= 3.5, < 4.0"
    }
  }

  # State holds the DB password: keep it in an encrypted remote backend.
  # terraform init -backend-config="bucket=..." -backend-config="key=floorplan/terraform.tfstate" -backend-config="region=..."
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = merge({ Application = "floorplan" }, var.tags)
  }
}

locals {
  # Logical queue names are render-2d / render-3d (shared/queue); physical ones carry the prefix.
  queues = {
    "2d" = "${var.sqs_queue_prefix}-render-2d"
    "3d" = "${var.sqs_queue_prefix}-render-3d"
  }

  # Kubernetes service accounts (infra/k8s/serviceaccounts.yaml) and the role each one assumes.
  service_accounts = {
    api     = "floorplan-api"
    worker  = "floorplan-worker"
    migrate = "floorplan-migrate"
  }

  oidc_issuer = element(split("oidc-provider/", var.eks_oidc_provider_arn), 1)

  render_queue_arns = [for q in aws_sqs_queue.render : q.arn]
  dlq_arns          = [for q in aws_sqs_queue.dlq : q.arn]
  results_objects   = "${aws_s3_bucket.results.arn}/${var.s3_prefix}*"
}

# ---- SQS: one queue per view, each with a dead-letter queue -------------------------------------

resource "aws_sqs_queue" "dlq" {
  for_each = local.queues

  name                      = "${each.value}-dlq"
  message_retention_seconds = 1209600 # 14 days, the maximum
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "render" {
  for_each = local.queues

  name                       = each.value
  visibility_timeout_seconds = var.queue_visibility_timeout_s
  message_retention_seconds  = 1209600
  receive_wait_time_seconds  = 20
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each = local.queues

  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.render[each.key].arn]
  })
}

# ---- S3: private results bucket, encrypted, results expire -------------------------------------

resource "aws_s3_bucket" "results" {
  bucket = var.s3_bucket_name
}

resource "aws_s3_bucket_ownership_controls" "results" {
  bucket = aws_s3_bucket.results.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "results" {
  bucket = aws_s3_bucket.results.id

  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "results" {
  bucket = aws_s3_bucket.results.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = var.s3_kms_key_arn == null ? "AES256" : "aws:kms"
      kms_master_key_id = var.s3_kms_key_arn
    }
    bucket_key_enabled = var.s3_kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "results" {
  bucket = aws_s3_bucket.results.id

  rule {
    id     = "expire-results"
    status = "Enabled"

    filter {
      prefix = var.s3_prefix
    }

    expiration {
      days = var.result_expiry_days
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"

    filter {
      prefix = ""
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }
}

data "aws_iam_policy_document" "results_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.results.arn,
      "${aws_s3_bucket.results.arn}/*",
    ]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "results" {
  bucket = aws_s3_bucket.results.id
  policy = data.aws_iam_policy_document.results_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.results]
}

# ---- RDS MySQL 8 --------------------------------------------------------------------------------

resource "random_password" "db" {
  length  = 40
  special = false # goes into a URL unescaped
}

resource "random_password" "secret_key" {
  length  = 64
  special = false
}

resource "aws_db_subnet_group" "this" {
  name       = var.name
  subnet_ids = var.db_subnet_ids
}

resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "MySQL for the floorplan render service"
  vpc_id      = var.vpc_id
}

resource "aws_vpc_security_group_ingress_rule" "db" {
  count = length(var.db_client_security_group_ids)

  security_group_id            = aws_security_group.db.id
  referenced_security_group_id = var.db_client_security_group_ids[count.index]
  ip_protocol                  = "tcp"
  from_port                    = 3306
  to_port                      = 3306
  description                  = "MySQL from the cluster"
}

resource "aws_db_instance" "this" {
  identifier     = var.name
  engine         = "mysql"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class

  allocated_storage     = var.db_allocated_storage_gb
  max_allocated_storage = var.db_max_allocated_storage_gb
  storage_type          = "gp3"
  storage_encrypted     = true

  db_name  = var.db_name
  username = var.db_username
  password = random_password.db.result
  port     = 3306

  multi_az               = var.db_multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.db.id]
  publicly_accessible    = false

  backup_retention_period    = var.db_backup_retention_days
  deletion_protection        = var.db_deletion_protection
  skip_final_snapshot        = false
  final_snapshot_identifier  = "${var.name}-final"
  copy_tags_to_snapshot      = true
  auto_minor_version_upgrade = true

  enabled_cloudwatch_logs_exports = ["error", "slowquery"]
}

# Everything secret the pods need, in one Secrets Manager secret (synced into the Kubernetes Secret
# "floorplan-secrets", see infra/README.md).
resource "aws_secretsmanager_secret" "app" {
  name                    = "${var.name}/app"
  description             = "floorplan render service: FLOORPLAN_DATABASE_URL and FLOORPLAN_SECRET_KEY"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    FLOORPLAN_DATABASE_URL = "mysql+asyncmy://${var.db_username}:${random_password.db.result}@${aws_db_instance.this.address}:${aws_db_instance.this.port}/${var.db_name}?charset=utf8mb4"
    FLOORPLAN_SECRET_KEY   = random_password.secret_key.result
  })
}

# ---- IAM: one role per service account (IRSA) ---------------------------------------------------

data "aws_iam_policy_document" "assume" {
  for_each = local.service_accounts

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.eks_oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${var.k8s_namespace}:${each.value}"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.oidc_issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "app" {
  for_each = local.service_accounts

  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume[each.key].json
}

# API: the outbox relay sends job ids; queue depths feed position/ETA and /readyz; results are
# handed out as presigned GET URLs (signed with this role's credentials).
data "aws_iam_policy_document" "api" {
  statement {
    sid       = "SendRenderJobs"
    actions   = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = local.render_queue_arns
  }

  statement {
    sid       = "ReadDeadLetterDepth"
    actions   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
    resources = local.dlq_arns
  }

  # /readyz pings SQS with ListQueues, which has no resource-level permissions.
  statement {
    sid       = "PingQueueService"
    actions   = ["sqs:ListQueues"]
    resources = ["*"]
  }

  statement {
    sid       = "PresignResults"
    actions   = ["s3:GetObject"]
    resources = [local.results_objects]
  }

  dynamic "statement" {
    for_each = var.s3_kms_key_arn == null ? [] : [var.s3_kms_key_arn]
    content {
      sid       = "DecryptResults"
      actions   = ["kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

# Worker: consume, heartbeat (visibility), acknowledge, upload results. Dead-lettering is SQS's redrive.
data "aws_iam_policy_document" "worker" {
  statement {
    sid = "ConsumeRenderJobs"
    actions = [
      "sqs:ReceiveMessage",
      "sqs:DeleteMessage",
      "sqs:ChangeMessageVisibility",
      "sqs:GetQueueAttributes",
      "sqs:GetQueueUrl",
    ]
    resources = local.render_queue_arns
  }

  statement {
    sid       = "UploadResults"
    actions   = ["s3:PutObject"]
    resources = [local.results_objects]
  }

  dynamic "statement" {
    for_each = var.s3_kms_key_arn == null ? [] : [var.s3_kms_key_arn]
    content {
      sid       = "EncryptResults"
      actions   = ["kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

# Migrate: `floorplan migrate` also makes sure the queues and the bucket exist (GetQueueUrl / HeadBucket
# first). Terraform owns them, so this role may look them up and create a missing queue, never change one.
data "aws_iam_policy_document" "migrate" {
  statement {
    sid       = "EnsureQueues"
    actions   = ["sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
    resources = concat(local.render_queue_arns, local.dlq_arns)
  }

  statement {
    sid       = "EnsureBucket"
    actions   = ["s3:ListBucket"]
    resources = [aws_s3_bucket.results.arn]
  }
}

resource "aws_iam_role_policy" "api" {
  name   = "floorplan-api"
  role   = aws_iam_role.app["api"].id
  policy = data.aws_iam_policy_document.api.json
}

resource "aws_iam_role_policy" "worker" {
  name   = "floorplan-worker"
  role   = aws_iam_role.app["worker"].id
  policy = data.aws_iam_policy_document.worker.json
}

resource "aws_iam_role_policy" "migrate" {
  name   = "floorplan-migrate"
  role   = aws_iam_role.app["migrate"].id
  policy = data.aws_iam_policy_document.migrate.json
}

# KEDA (TriggerAuthentication podIdentity provider "aws", identityOwner "keda") reads queue depth
# with the operator's own role: that role gets exactly this, nothing of the workers' rights.
data "aws_iam_policy_document" "keda" {
  statement {
    sid       = "ReadRenderQueueDepth"
    actions   = ["sqs:GetQueueAttributes"]
    resources = local.render_queue_arns
  }
}

resource "aws_iam_role_policy" "keda" {
  name   = "${var.name}-keda-sqs"
  role   = var.keda_operator_role_name
  policy = data.aws_iam_policy_document.keda.json
}
