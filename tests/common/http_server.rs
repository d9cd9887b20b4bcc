//! A tiny HTTP/1.1 file server on 127.0.0.1 for fetch tests: serves byte ranges, can cut
//! a connection half-way once, answers 404 for unknown paths.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

#[derive(Clone)]
pub struct Route {
    pub body: Arc<Vec<u8>>,
    pub content_type: &'static str,
    /// Cut the connection after half the body, this many more times.
    pub cuts_left: Arc<Mutex<u32>>,
}

pub struct TestServer {
    pub base: String,
    pub hits: Arc<Mutex<Vec<(String, Option<u64>)>>>,
}

pub fn route(body: Vec<u8>, content_type: &'static str, cuts: u32) -> Route {
    Route { body: Arc::new(body), content_type, cuts_left: Arc::new(Mutex::new(cuts)) }
}

pub fn start(routes: HashMap<String, Route>) -> TestServer {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(Vec::new()));
    let routes = Arc::new(routes);
    let h = hits.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let routes = routes.clone();
            let h = h.clone();
            std::thread::spawn(move || {
                let _ = handle(s, &routes, &h);
            });
        }
    });
    TestServer { base, hits }
}

fn handle(mut s: TcpStream, routes: &HashMap<String, Route>, hits: &Mutex<Vec<(String, Option<u64>)>>) -> std::io::Result<()> {
    let mut r = BufReader::new(s.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("range: bytes=") {
            range = v.trim().trim_end_matches('-').parse::<u64>().ok();
        }
    }
    hits.lock().unwrap().push((path.clone(), range));
    let Some(rt) = routes.get(&path) else {
        s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found")?;
        return Ok(());
    };
    let total = rt.body.len() as u64;
    let start = range.unwrap_or(0).min(total);
    let body = &rt.body[start as usize..];
    let head = if range.is_some() {
        format!("HTTP/1.1 206 Partial Content\r\nContent-Type: {}\r\nContent-Length: {}\r\nContent-Range: bytes {}-{}/{}\r\nConnection: close\r\n\r\n", rt.content_type, body.len(), start, total.saturating_sub(1), total)
    } else {
        format!("HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n", rt.content_type, body.len())
    };
    s.write_all(head.as_bytes())?;
    let cut = {
        let mut c = rt.cuts_left.lock().unwrap();
        if *c > 0 {
            *c -= 1;
            true
        } else {
            false
        }
    };
    if cut {
        s.write_all(&body[..body.len() / 2])?;
        s.flush()?;
        let _ = s.shutdown(std::net::Shutdown::Both);
        return Ok(());
    }
    s.write_all(body)?;
    Ok(())
}
