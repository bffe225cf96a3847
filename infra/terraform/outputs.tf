output "queue_urls" {
  description = "Render queue URLs by view."
  value       = { for k, q in aws_sqs_queue.render : k => q.url }
}

output "dlq_urls" {
  description = "Dead-letter queue URLs by view."
  value       = { for k, q in aws_sqs_queue.dlq : k => q.url }
}

output "results_bucket" {
  value = aws_s3_bucket.results.bucket
}

output "db_address" {
  value = aws_db_instance.this.address
}

output "app_secret_arn" {
  description = "Secrets Manager secret with FLOORPLAN_DATABASE_URL and FLOORPLAN_SECRET_KEY."
  value       = aws_secretsmanager_secret.app.arn
}

output "role_arns" {
  description = "IAM role ARNs for the api, worker and migrate service accounts."
  value       = { for k, r in aws_iam_role.app : k => r.arn }
}

# `terraform output -raw k8s_deploy_env > ../k8s/deploy.env`: infra/k8s/kustomization.yaml copies
# these into the ConfigMap, the service-account annotations and the KEDA triggers.
output "k8s_deploy_env" {
  value = <<-EOT
    AWS_REGION=${var.aws_region}
    PUBLIC_URL=${var.public_url}
    S3_BUCKET=${aws_s3_bucket.results.bucket}
    S3_PREFIX=${var.s3_prefix}
    SQS_QUEUE_PREFIX=${var.sqs_queue_prefix}
    QUEUE_MAX_RECEIVES=${var.max_receive_count}
    QUEUE_URL_RENDER_2D=${aws_sqs_queue.render["2d"].url}
    QUEUE_URL_RENDER_3D=${aws_sqs_queue.render["3d"].url}
    API_ROLE_ARN=${aws_iam_role.app["api"].arn}
    WORKER_ROLE_ARN=${aws_iam_role.app["worker"].arn}
    MIGRATE_ROLE_ARN=${aws_iam_role.app["migrate"].arn}
  EOT
}

output "ecs_worker_services" {
  description = "ECS worker services by queue (ecs_workers = true), each scaled on BacklogPerInstance."
  value       = { for k, s in aws_ecs_service.worker : k => s.name }
}
