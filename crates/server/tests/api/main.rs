//! Integration tests: the real server on port 0, real WebSocket and HTTP
//! clients on loopback.

mod clients;
mod helpers;
mod process;
mod reliability;
mod tokens;

mod assets;
mod auth;
mod binary;
mod cluster;
mod compression;
mod framing;
mod hostile;
mod http;
mod limits;
mod lists;
mod redis_support;
mod restart;
mod shared;
mod shutdown;
mod soak;
mod v1;
mod ws;
