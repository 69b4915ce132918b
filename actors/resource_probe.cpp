#include "actors/resource_probe.hpp"

#include <fstream>
#include <sstream>

namespace batching {

namespace {

struct counters {
  double cpu_busy = 0;
  double cpu_total = 0;
  double rx = 0;
  double tx = 0;
  double read_bytes = 0;
  double write_bytes = 0;
  double io_ms = 0; // time spent doing I/O, summed over whole disks
};

/// True for whole disks (sda, vda, nvme0n1, xvda), not partitions.
bool whole_disk(const std::string& name) {
  if (name.rfind("loop", 0) == 0 || name.rfind("ram", 0) == 0
      || name.rfind("dm-", 0) == 0)
    return false;
  if (name.rfind("nvme", 0) == 0 || name.rfind("mmcblk", 0) == 0)
    return name.find('p') == std::string::npos;
  return !name.empty()
         && !std::isdigit(static_cast<unsigned char>(name.back()));
}

class linux_probe final : public resource_probe {
public:
  explicit linux_probe(std::string root) : root_(std::move(root)) {
    // nop
  }

  resource_snapshot read(time_point now) override {
    resource_snapshot snap;
    snap.at = now;
    auto c = read_counters();
    snap.memory_percent = memory_percent();
    snap.load_average_1m = load_average();
    if (previous_) {
      auto secs = to_seconds(now - previous_at_);
      auto& p = *previous_;
      auto total = c.cpu_total - p.cpu_total;
      if (total > 0)
        snap.cpu_percent = 100.0 * (c.cpu_busy - p.cpu_busy) / total;
      if (secs > 0) {
        snap.net_rx_bytes_per_s = (c.rx - p.rx) / secs;
        snap.net_tx_bytes_per_s = (c.tx - p.tx) / secs;
        snap.disk_read_bytes_per_s = (c.read_bytes - p.read_bytes) / secs;
        snap.disk_write_bytes_per_s = (c.write_bytes - p.write_bytes) / secs;
        snap.disk_busy_percent
          = std::min(100.0, (c.io_ms - p.io_ms) / (secs * 1000.0) * 100.0);
      }
    }
    previous_ = c;
    previous_at_ = now;
    return snap;
  }

private:
  counters read_counters() const {
    counters c;
    {
      std::ifstream in{root_ + "/stat"};
      std::string cpu;
      double user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0,
             softirq = 0, steal = 0;
      if (in >> cpu >> user >> nice >> sys >> idle >> iowait >> irq >> softirq
          >> steal) {
        c.cpu_busy = user + nice + sys + irq + softirq + steal;
        c.cpu_total = c.cpu_busy + idle + iowait;
      }
    }
    {
      std::ifstream in{root_ + "/net/dev"};
      std::string line;
      while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos)
          continue;
        std::string name = line.substr(0, colon);
        name.erase(0, name.find_first_not_of(' '));
        if (name == "lo")
          continue;
        std::istringstream fields{line.substr(colon + 1)};
        double v[9] = {};
        for (auto& x : v)
          fields >> x;
        c.rx += v[0]; // receive bytes
        c.tx += v[8]; // transmit bytes
      }
    }
    {
      std::ifstream in{root_ + "/diskstats"};
      std::string line;
      while (std::getline(in, line)) {
        std::istringstream fields{line};
        double major = 0, minor = 0;
        std::string name;
        double v[10] = {};
        fields >> major >> minor >> name;
        for (auto& x : v)
          fields >> x;
        if (!whole_disk(name))
          continue;
        c.read_bytes += v[2] * 512.0;  // sectors read
        c.write_bytes += v[6] * 512.0; // sectors written
        c.io_ms += v[9];               // ms doing I/O
      }
    }
    return c;
  }

  double memory_percent() const {
    std::ifstream in{root_ + "/meminfo"};
    std::string key, unit;
    double value = 0, total = 0, available = -1;
    while (in >> key >> value) {
      std::getline(in, unit);
      if (key == "MemTotal:")
        total = value;
      else if (key == "MemAvailable:")
        available = value;
    }
    if (total <= 0 || available < 0)
      return 0;
    return 100.0 * (total - available) / total;
  }

  double load_average() const {
    std::ifstream in{root_ + "/loadavg"};
    double load = 0;
    in >> load;
    return load;
  }

  std::string root_;
  std::optional<counters> previous_;
  time_point previous_at_{};
};

class scripted_probe final : public resource_probe {
public:
  explicit scripted_probe(std::function<resource_snapshot(time_point)> f)
    : script_(std::move(f)) {
    // nop
  }

  resource_snapshot read(time_point now) override {
    auto snap = script_(now);
    snap.at = now;
    return snap;
  }

private:
  std::function<resource_snapshot(time_point)> script_;
};

} // namespace

std::unique_ptr<resource_probe> make_linux_probe(std::string proc_root) {
  return std::make_unique<linux_probe>(std::move(proc_root));
}

std::unique_ptr<resource_probe>
make_scripted_probe(std::function<resource_snapshot(time_point)> script) {
  return std::make_unique<scripted_probe>(std::move(script));
}

} // namespace batching
