# A stack that reaches beyond what keel manages: a DynamoDB lock table (twice), a Lambda
# function and an SQS queue. keel names each unsupported type once, at its first block,
# with the types it does manage.

resource "aws_dynamodb_table" "locks" {
  name         = "terraform-locks"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }
}

resource "aws_dynamodb_table" "sessions" {
  name         = "sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_lambda_function" "hook" {
  function_name = "hook"
  role          = aws_iam_role.hook.arn
  handler       = "index.handler"
  runtime       = "python3.12"
  filename      = "hook.zip"
}

resource "aws_sqs_queue" "events" {
  name = "events"
}

resource "aws_iam_role" "hook" {
  name = "hook"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Action    = "sts:AssumeRole"
      Principal = { Service = "lambda.amazonaws.com" }
    }]
  })
}
