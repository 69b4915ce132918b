#pragma once

// A real nginx on 127.0.0.1 for the HTTP tests: its own prefix directory,
// a free port, and a limit_req budget. Endpoints:
//   /append  rate-limited (limit_req: `rate` requests/s, `burst`), answers
//            429 + Retry-After: 1 when over budget, else 200 {"ok":true}
//            (the answer comes from a second server block through
//            proxy_pass, so limit_req runs before it);
//   /bad     400 {"message":"validation failed: payload too short"};
//   /fail    500; /unavailable 503 + Retry-After: 2.
// The access log ("<status> <msec>") is the server's own count of what it
// answered.

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace batching::test {

/// A free TCP port on 127.0.0.1 (bound, then released).
inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// True once something accepts connections on 127.0.0.1:port.
inline bool accepting(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok
    = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

/// A listening socket on 127.0.0.1 that never accepts: the kernel
/// completes connections and takes requests, no answer ever comes.
class silent_listener {
public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
        || ::listen(fd_, 64) != 0)
      return;
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() { ::close(fd_); }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;

  /// 0 when it could not listen.
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/// Starts `argv` as a child process; its pid (0 on failure).
inline pid_t spawn(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0)
    return 0;
  return pid;
}

class nginx_server {
public:
  struct options {
    int rate_per_second = 10;
    int burst = 5;
    /// Extra directives inside the public server block (e.g. TLS).
    std::string extra_server;
    bool tls = false;
  };

  explicit nginx_server(options opts) : opts_(std::move(opts)) {
    dir_ = std::filesystem::temp_directory_path()
           / ("batching-nginx-" + std::to_string(::getpid()) + "-"
              + std::to_string(counter()++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "tmp");
    port_ = free_port();
    inner_port_ = free_port();
    std::ofstream conf{dir_ / "nginx.conf"};
    auto d = dir_.string();
    conf << "worker_processes 1;\n"
         << "daemon off;\n"
         << "pid " << d << "/nginx.pid;\n"
         << "error_log " << d << "/error.log warn;\n"
         << "events { worker_connections 1024; }\n"
         << "http {\n"
         << "  client_body_temp_path " << d << "/tmp/body;\n"
         << "  proxy_temp_path " << d << "/tmp/proxy;\n"
         << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n"
         << "  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
         << "  scgi_temp_path " << d << "/tmp/scgi;\n"
         << "  log_format short '$status $msec';\n"
         << "  client_max_body_size 20m;\n"
         << "  keepalive_requests 100000;\n"
         << "  limit_req_zone $server_port zone=api:1m rate="
         << opts_.rate_per_second << "r/s;\n"
         << "  upstream inner { server 127.0.0.1:" << inner_port_
         << "; keepalive 16; }\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << port_ << (opts_.tls ? " ssl" : "")
         << ";\n"
         << opts_.extra_server << "    access_log " << d
         << "/access.log short;\n"
         << "    location /append {\n"
         << "      limit_req zone=api"
         << (opts_.burst > 0
               ? " burst=" + std::to_string(opts_.burst) + " nodelay"
               : std::string{})
         << ";\n"
         << "      limit_req_status 429;\n"
         << "      error_page 429 = @throttled;\n"
         << "      proxy_http_version 1.1;\n"
         << "      proxy_set_header Connection \"\";\n"
         << "      proxy_pass http://inner/ok;\n"
         << "    }\n"
         << "    location @throttled {\n"
         << "      add_header Retry-After 1 always;\n"
         << "      return 429 '{\"message\":\"rate limited\"}';\n"
         << "    }\n"
         << "    location /bad { return 400 "
            "'{\"message\":\"validation failed: payload too short\"}'; }\n"
         << "    location /fail { return 500 'upstream exploded'; }\n"
         << "    location /unavailable {\n"
         << "      add_header Retry-After 2 always;\n"
         << "      return 503 '{\"message\":\"maintenance\"}';\n"
         << "    }\n"
         << "  }\n"
         << "  server {\n"
         << "    listen 127.0.0.1:" << inner_port_ << ";\n"
         << "    access_log off;\n"
         << "    location /ok { return 200 '{\"ok\":true}'; }\n"
         << "  }\n"
         << "}\n";
    conf.close();
    pid_ = spawn(
      {"nginx", "-p", d, "-c", d + "/nginx.conf", "-e", d + "/error.log"});
    for (int i = 0; i < 500 && pid_ != 0; ++i) {
      if (accepting(port_) && accepting(inner_port_))
        return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) { // exited: bad config
        pid_ = 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }

  ~nginx_server() {
    if (pid_ != 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  nginx_server(const nginx_server&) = delete;
  nginx_server& operator=(const nginx_server&) = delete;

  bool running() const { return pid_ != 0 && accepting(port_); }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }

  std::string url(const std::string& path) const {
    return std::string{opts_.tls ? "https" : "http"}
           + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  /// The statuses nginx logged, with their times (seconds since the epoch).
  /// nginx logs a request after answering it: waits up to 2 s for at least
  /// `expected` entries.
  std::vector<std::pair<int, double>> access_log(std::size_t expected
                                                 = 0) const {
    std::vector<std::pair<int, double>> entries;
    for (int i = 0; i < 200; ++i) {
      entries.clear();
      std::ifstream in{dir_ / "access.log"};
      int status = 0;
      double at = 0;
      while (in >> status >> at)
        entries.emplace_back(status, at);
      if (entries.size() >= expected)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return entries;
  }

  std::string error_log() const {
    std::ifstream in{dir_ / "error.log"};
    return {std::istreambuf_iterator<char>{in}, {}};
  }

private:
  static int& counter() {
    static int n = 0;
    return n;
  }

  options opts_;
  std::filesystem::path dir_;
  std::uint16_t port_ = 0;
  std::uint16_t inner_port_ = 0;
  pid_t pid_ = 0;
};

} // namespace batching::test
