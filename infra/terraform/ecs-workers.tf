# Render workers on ECS Fargate, for running without Kubernetes (var.ecs_workers). Each queue gets a service
# of `floorplan-worker run` tasks. The workers publish BacklogPerInstance per queue to CloudWatch
# (worker/cloudwatch.py: (queued + running) renders / workers serving the queue), and a target-tracking
# policy keeps it at the scaling rule's backlog per render slot times the slots of a task: the rule of
# shared/scaling.py, which `floorplan serve --workers auto` and KEDA apply too.

locals {
  ecs_queues = var.ecs_workers ? toset(["render-2d", "render-3d"]) : toset([])
  ecs_env = {
    FLOORPLAN_QUEUE                = "sqs"
    FLOORPLAN_STORAGE              = "s3"
    FLOORPLAN_SQS_QUEUE_PREFIX     = var.sqs_queue_prefix
    FLOORPLAN_QUEUE_MAX_RECEIVES   = tostring(var.max_receive_count)
    FLOORPLAN_S3_BUCKET            = aws_s3_bucket.results.bucket
    FLOORPLAN_S3_PREFIX            = var.s3_prefix
    FLOORPLAN_PUBLIC_URL           = var.public_url
    FLOORPLAN_DRAIN_S              = tostring(var.drain_s)
    FLOORPLAN_CLOUDWATCH_METRICS   = "true"
    FLOORPLAN_CLOUDWATCH_NAMESPACE = var.cloudwatch_namespace
    AWS_REGION                     = var.aws_region
    AWS_DEFAULT_REGION             = var.aws_region
  }
  ecs_secrets = [for k in ["FLOORPLAN_DATABASE_URL", "FLOORPLAN_SECRET_KEY"] : { name = k, valueFrom = "${aws_secretsmanager_secret.app.arn}:${k}::" }]
}

resource "aws_ecs_cluster" "workers" {
  count = var.ecs_workers ? 1 : 0

  name = "${var.name}-workers"

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_cloudwatch_log_group" "workers" {
  count = var.ecs_workers ? 1 : 0

  name              = "/ecs/${var.name}-workers"
  retention_in_days = 30
}

# ---- IAM: the task's own role (the worker's permissions, plus its metric) and ECS's execution role -----

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "ecs_worker_metric" {
  statement {
    sid       = "PublishBacklogPerInstance"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]

    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = [var.cloudwatch_namespace]
    }
  }
}

resource "aws_iam_role" "ecs_worker" {
  count = var.ecs_workers ? 1 : 0

  name               = "${var.name}-ecs-worker"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy" "ecs_worker" {
  count = var.ecs_workers ? 1 : 0

  name   = "floorplan-worker"
  role   = aws_iam_role.ecs_worker[0].id
  policy = data.aws_iam_policy_document.worker.json
}

resource "aws_iam_role_policy" "ecs_worker_metric" {
  count = var.ecs_workers ? 1 : 0

  name   = "floorplan-worker-metric"
  role   = aws_iam_role.ecs_worker[0].id
  policy = data.aws_iam_policy_document.ecs_worker_metric.json
}

data "aws_iam_policy_document" "ecs_execution_secret" {
  statement {
    sid       = "ReadAppSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.app.arn]
  }
}

resource "aws_iam_role" "ecs_execution" {
  count = var.ecs_workers ? 1 : 0

  name               = "${var.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

resource "aws_iam_role_policy_attachment" "ecs_execution" {
  count = var.ecs_workers ? 1 : 0

  role       = aws_iam_role.ecs_execution[0].name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "ecs_execution_secret" {
  count = var.ecs_workers ? 1 : 0

  name   = "floorplan-app-secret"
  role   = aws_iam_role.ecs_execution[0].id
  policy = data.aws_iam_policy_document.ecs_execution_secret.json
}

# ---- one service per queue ----------------------------------------------------------------------------

resource "aws_ecs_task_definition" "worker" {
  for_each = local.ecs_queues

  family                   = "${var.name}-worker-${trimprefix(each.key, "render-")}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = var.ecs_worker_size[each.key].cpu
  memory                   = var.ecs_worker_size[each.key].memory
  task_role_arn            = aws_iam_role.ecs_worker[0].arn
  execution_role_arn       = aws_iam_role.ecs_execution[0].arn

  container_definitions = jsonencode([{
    name      = "worker"
    image     = var.worker_image
    essential = true
    command   = ["floorplan-worker", "run", "--concurrency", tostring(var.ecs_worker_slots[each.key]), "--queues", each.key]
    # SIGTERM drains: renders in hand may finish within FLOORPLAN_DRAIN_S, then the rest go back to the queue.
    stopTimeout = min(120, var.drain_s + 5)
    environment = [for k, v in local.ecs_env : { name = k, value = v }]
    secrets     = local.ecs_secrets
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.workers[0].name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

resource "aws_ecs_service" "worker" {
  for_each = local.ecs_queues

  name            = "${var.name}-worker-${trimprefix(each.key, "render-")}"
  cluster         = aws_ecs_cluster.workers[0].id
  task_definition = aws_ecs_task_definition.worker[each.key].arn
  launch_type     = "FARGATE"
  desired_count   = var.ecs_min_workers[each.key]

  network_configuration {
    subnets          = var.ecs_subnet_ids
    security_groups  = var.ecs_security_group_ids
    assign_public_ip = false
  }

  # The scaling policy owns the count.
  lifecycle {
    ignore_changes = [desired_count]
  }
}

resource "aws_appautoscaling_target" "worker" {
  for_each = local.ecs_queues

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.workers[0].name}/${aws_ecs_service.worker[each.key].name}"
  min_capacity       = var.ecs_min_workers[each.key]
  max_capacity       = var.ecs_max_workers[each.key]
}

resource "aws_appautoscaling_policy" "backlog" {
  for_each = local.ecs_queues

  name               = "${var.name}-worker-${trimprefix(each.key, "render-")}-backlog"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.worker[each.key].service_namespace
  scalable_dimension = aws_appautoscaling_target.worker[each.key].scalable_dimension
  resource_id        = aws_appautoscaling_target.worker[each.key].resource_id

  target_tracking_scaling_policy_configuration {
    # Backlog per task = backlog per render slot x the slots of a task.
    target_value       = var.scale_backlog_per_worker[each.key] * var.ecs_worker_slots[each.key]
    scale_out_cooldown = 0
    scale_in_cooldown  = var.scale_cooldown_s

    customized_metric_specification {
      namespace   = var.cloudwatch_namespace
      metric_name = "BacklogPerInstance"
      statistic   = "Average"
      unit        = "Count"

      dimensions {
        name  = "Queue"
        value = each.key
      }
    }
  }
}
