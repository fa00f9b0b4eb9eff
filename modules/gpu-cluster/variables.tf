variable "name" {
  type        = string
  description = "Name of the cluster: names its placement group, launch template and security group and prefixes its instances' Name tags; unique per account and region."

  validation {
    condition     = can(regex("^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}$", var.name))
    error_message = "name must be 1-63 letters, digits or hyphens, starting with a letter or digit."
  }
}

variable "instance_count" {
  type        = number
  description = "How many GPU instances to run (0 keeps the template and placement group with no instances)."
  default     = 2

  validation {
    condition     = var.instance_count >= 0 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number, 0 or more."
  }
}

variable "instance_type" {
  type        = string
  description = "GPU instance type: p4d.24xlarge, p4de.24xlarge, p5.48xlarge, p5e.48xlarge, p5en.48xlarge, or a g5, g6 or g6e size."
  default     = "p5.48xlarge"

  validation {
    condition     = can(regex("^((p4d|p4de)\\.24xlarge|(p5|p5e|p5en)\\.48xlarge|(g5|g6|g6e)\\.(x|2x|4x|8x|12x|16x|24x|48x)large)$", var.instance_type))
    error_message = "instance_type must be a GPU training or inference type: p4d.24xlarge, p4de.24xlarge, p5.48xlarge, p5e.48xlarge, p5en.48xlarge, or g5/g6/g6e .xlarge to .48xlarge."
  }
}

variable "ami_id" {
  type        = string
  description = "AMI the instances boot. The default is a Deep Learning AMI id that the local test endpoint (moto) knows; real users pass their region's current Deep Learning AMI (GPU drivers, CUDA, EFA and NCCL installed)."
  default     = "ami-999844e0"

  validation {
    condition     = can(regex("^ami-[0-9a-f]{8}([0-9a-f]{9})?$", var.ami_id))
    error_message = "ami_id must be an AMI id such as ami-0123456789abcdef0."
  }
}

variable "root_device_name" {
  type        = string
  description = "The AMI's root device: /dev/xvda for Amazon Linux based AMIs, /dev/sda1 for Ubuntu based ones."
  default     = "/dev/xvda"
}

variable "subnet_id" {
  type        = string
  description = "The private subnet the instances run in. A cluster placement group lives in one availability zone, so the whole cluster shares one subnet."
}

variable "vpc_id" {
  type        = string
  description = "The VPC of subnet_id, where the cluster's security group is made."
}

variable "additional_security_group_ids" {
  type        = list(string)
  description = "Security groups to add to the instances' network interface besides the cluster's own."
  default     = []
}

variable "https_egress_cidr_blocks" {
  type        = list(string)
  description = "Where the instances may open HTTPS connections (package mirrors, registries, S3 through its endpoint). Nothing outside the cluster may connect in."
  default     = ["0.0.0.0/0"]

  validation {
    condition     = alltrue([for c in var.https_egress_cidr_blocks : can(cidrnetmask(c))])
    error_message = "https_egress_cidr_blocks must be IPv4 CIDR blocks."
  }
}

variable "instance_profile_name" {
  type        = string
  description = "Instance profile the instances run with (see modules/workload-role): it decides which buckets and keys they may use."
}

variable "root_volume_size" {
  type        = number
  description = "Size of the encrypted gp3 root volume in GiB: room for the AMI, containers and a local copy of the dataset shard."
  default     = 500

  validation {
    condition     = var.root_volume_size >= 100 && var.root_volume_size <= 16384
    error_message = "root_volume_size must be from 100 GiB (the Deep Learning AMIs need about that) to 16384 GiB."
  }
}

variable "root_volume_iops" {
  type        = number
  description = "Provisioned IOPS of the gp3 root volume (3000-16000)."
  default     = 16000

  validation {
    condition     = var.root_volume_iops >= 3000 && var.root_volume_iops <= 16000
    error_message = "root_volume_iops must be from 3000 to 16000."
  }
}

variable "root_volume_throughput" {
  type        = number
  description = "Throughput of the gp3 root volume in MiB/s (125-1000)."
  default     = 1000

  validation {
    condition     = var.root_volume_throughput >= 125 && var.root_volume_throughput <= 1000
    error_message = "root_volume_throughput must be from 125 to 1000 MiB/s."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "KMS key for the root volumes; null uses the account's default EBS key. Volumes are encrypted either way."
  default     = null
}

variable "efa_enabled" {
  type        = bool
  description = "Attach Elastic Fabric Adapters, one per EFA-capable network card (4 on p4d/p4de, 32 on p5/p5e, 16 on p5en, 2 on g6e.24xlarge, 4 on g6e.48xlarge, 1 on other g5/g6/g6e from 8xlarge up). null decides by instance_type: on for the types that support EFA."
  default     = null
}

variable "spot" {
  type        = bool
  description = "Run on spot capacity (one-time requests, terminated on interruption): cheaper, but training must checkpoint."
  default     = false
}

variable "spot_max_price" {
  type        = string
  description = "Highest hourly price to pay for spot capacity, in USD; null caps it at the on-demand price."
  default     = null
}

variable "metadata_hop_limit" {
  type        = number
  description = "IMDSv2 response hop limit: 1 keeps credentials away from containers with their own network namespace; 2 lets such containers reach the instance's role."
  default     = 1

  validation {
    condition     = var.metadata_hop_limit >= 1 && var.metadata_hop_limit <= 64
    error_message = "metadata_hop_limit must be from 1 to 64."
  }
}

variable "user_data" {
  type        = string
  description = "Boot script, as plain text (the module base64-encodes it): driver checks, framework setup, joining the training job."
  default     = ""
}

variable "key_name" {
  type        = string
  description = "EC2 key pair for SSH; null (the default) leaves SSH keys off: use SSM Session Manager through the instance profile."
  default     = null
}

variable "tags" {
  type        = map(string)
  description = "Tags for every object the module creates, volumes and network interfaces included (cost allocation: team, experiment), on top of the provider's default_tags."
  default     = {}
}
